// Package containerdapi describes containers through containerd's own API,
// with containerd's Go client: containers with their labels, image and
// OCI spec, tasks with their pids, and the event service for lifecycle.
//
// containerd has no names, no "privileged" flag and no mount list of its
// own: those are read from the container's OCI spec (package ocispec), the
// start time from the task's process in /proc. One client covers every
// containerd namespace: Docker's containers live in "moby", Kubernetes'
// in "k8s.io", nerdctl's in "default". A namespace that another source
// describes better (Docker's, through the Engine API) can be skipped.
//
// Client implements container.Source.
package containerdapi
