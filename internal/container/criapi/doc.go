// Package criapi describes containers through the Kubernetes Container
// Runtime Interface (k8s.io/cri-api, gRPC on a unix socket), the API that
// CRI-O serves and that containerd serves through its CRI plugin.
//
// A container is described by ContainerStatus, asked verbose so that the
// runtime adds its own info JSON (the pid, the OCI spec and, from CRI-O, the
// privileged flag; containerd puts that flag in the container's CRI config
// inside the same JSON; see ParseInfo), and by its pod's PodSandboxStatus
// (pod name, namespace, uid, labels, annotations). Lifecycle comes from
// GetContainerEvents where the runtime implements it (containerd 1.7+,
// CRI-O 1.26+) and from polling ListContainers where it does not.
//
// Client implements container.Source.
package criapi
