// Package ocispec reads what Vigil needs from a container's OCI runtime
// spec (config.json): capabilities and the privilege they amount to,
// mounts, user and network namespace.
//
// containerd keeps the spec with each container, and both CRI
// implementations return it in their verbose container status, so the
// containerd and CRI clients describe containers from the same document.
// Runtimes without a "privileged" flag in their API (containerd's own) are
// judged by the capabilities the spec grants; see Describe.
package ocispec
