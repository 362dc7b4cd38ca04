package baseline

// DefaultSensitivePaths are the files whose reads a baseline records:
// credentials and keys an attacker goes for first. A read of anything
// else is not recorded (there are far too many, and they say little).
// baselines.sensitive_paths adds to the list. Patterns use the baseline
// syntax: '*' within a segment, a final "**" for a whole subtree.
var DefaultSensitivePaths = []string{
	// Accounts and privileges.
	"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/master.passwd",
	"/etc/sudoers", "/etc/sudoers.d/**", "/etc/security/opasswd",
	// SSH: host keys, users' keys and agents' configuration.
	"/etc/ssh/**", "/root/.ssh/**", "/home/*/.ssh/**",
	// Kubernetes: service-account tokens, node and cluster credentials.
	"/var/run/secrets/**", "/run/secrets/**", "/etc/kubernetes/**", "/var/lib/kubelet/pki/**",
	"/var/lib/kubelet/kubeconfig", "/root/.kube/**", "/home/*/.kube/**",
	// Cloud credentials.
	"/root/.aws/**", "/home/*/.aws/**", "/root/.config/gcloud/**", "/home/*/.config/gcloud/**",
	"/root/.azure/**", "/home/*/.azure/**", "/root/.docker/config.json", "/home/*/.docker/config.json",
	// Private keys and other secrets.
	"/etc/ssl/private/**", "/etc/pki/**", "/etc/krb5.keytab", "/root/.gnupg/**", "/home/*/.gnupg/**",
	"/root/.netrc", "/home/*/.netrc", "/root/.pgpass", "/home/*/.pgpass",
	"/root/.git-credentials", "/home/*/.git-credentials",
	"/root/.bash_history", "/home/*/.bash_history",
}

// newSensitive returns the matcher for the default list plus extra.
func newSensitive(extra []string) *PathSet {
	return NewPathSet(append(append([]string(nil), DefaultSensitivePaths...), extra...))
}
