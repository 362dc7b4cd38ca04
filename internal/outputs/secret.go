package outputs

import (
	"fmt"
	"os"
	"strings"
)

// CheckSecretFile refuses a file of secrets (a password, a token, NATS
// credentials or an NKey seed) that is not a regular file or that its
// group or others may read or write: a secret readable by every local
// user is not one. Kubernetes mounts secrets 0644 unless told otherwise:
// set the volume's defaultMode to 0400.
func CheckSecretFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s holds a secret but its mode is %#o: make it owner-only (chmod 600, or defaultMode: 0400 for a Kubernetes secret)", path, perm)
	}
	return nil
}

// readSecret returns the secret in path, checked with CheckSecretFile,
// without a trailing newline.
func readSecret(path string) (string, error) {
	if err := CheckSecretFile(path); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// secret returns inline, or else the content of file when set.
func secret(inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	return readSecret(file)
}
