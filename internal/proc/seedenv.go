package proc

import (
	"bytes"
	"encoding/binary"

	"github.com/vigilsec/vigil/internal/event"
)

// Limits that make a seeded loader environment match what the sensor
// copies at a secure exec (bpf/vigil.bpf.c): entries read, bytes kept.
const (
	maxLoaderEnvEntries = 8192
	maxLoaderEnvBytes   = 4096
	maxSeedEnviron      = 256 << 10
	atNull              = 0
	atSecure            = 23 // the auxiliary vector's AT_SECURE
)

// secureFromAuxv reports whether the kernel started the program in secure
// mode, from /proc/<pid>/auxv: native-word (type, value) pairs up to AT_NULL.
func secureFromAuxv(b []byte) bool {
	le := binary.LittleEndian
	for ; len(b) >= 16; b = b[16:] {
		switch le.Uint64(b) {
		case atNull:
			return false
		case atSecure:
			return le.Uint64(b[8:]) != 0
		}
	}
	return false
}

// loaderEnv keeps the LD_* and GLIBC_TUNABLES entries of a NUL-separated
// environment, NUL separated, within the sensor's limits; cut reports
// that entries were left out for them.
func loaderEnv(environ []byte) (env string, cut bool) {
	var out []byte
	for n := 0; len(environ) > 0; n++ {
		if n == maxLoaderEnvEntries {
			return string(out), true
		}
		entry, rest, _ := bytes.Cut(environ, []byte{0})
		environ = rest
		if !bytes.HasPrefix(entry, []byte("LD_")) && !bytes.HasPrefix(entry, []byte("GLIBC_TUNABLES=")) {
			continue
		}
		need := len(entry)
		if len(out) > 0 {
			need++
		}
		if len(out)+need > maxLoaderEnvBytes {
			return string(out), true
		}
		if len(out) > 0 {
			out = append(out, 0)
		}
		out = append(out, entry...)
	}
	return string(out), false
}

// readLoaderEnv sets the secure-exec flag and loader environment of a
// process that was running before the table saw its exec. Both are best
// effort: an unreadable auxv or environ leaves them unset.
func (s *seeder) readLoaderEnv(dir string, img *Image) {
	b, err := s.file(dir+"/auxv", maxSmallFile)
	if err != nil || !secureFromAuxv(b) {
		return
	}
	img.Flags |= event.ExecSecure
	b, truncated, err := readFile(s.buf, dir+"/environ", maxSeedEnviron)
	if err != nil {
		return
	}
	s.buf = b
	env, cut := loaderEnv(b)
	img.LoaderEnv = env
	if cut || truncated {
		img.Flags |= event.ExecEnvTruncated
	}
}
