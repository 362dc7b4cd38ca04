package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/k8s"
)

// podSyncWait bounds how long start-up waits for the first pod listing, so
// that the first alerts carry pod labels; detection starts regardless.
const podSyncWait = 5 * time.Second

// startPodWatch starts the node's pod informer when kubernetes.enabled is
// set, and returns it as the resolver's pod source with a function that
// stops it. Without it, or when the API cannot be configured, it returns
// nil: kubelet's container labels still name the pod.
func startPodWatch(cfg config.Kubernetes, log *slog.Logger) (container.PodSource, func()) {
	if !cfg.Enabled {
		return nil, func() {}
	}
	w, err := k8s.New(k8s.Config{NodeName: cfg.NodeName, Kubeconfig: cfg.Kubeconfig, Logger: log})
	if err != nil {
		log.Warn("kubernetes: pod metadata from the API is off", "error", err.Error())
		return nil, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Start(ctx); err != nil {
		cancel()
		log.Warn("kubernetes: pod metadata from the API is off", "error", err.Error())
		return nil, func() {}
	}
	wait, done := context.WithTimeout(ctx, podSyncWait)
	defer done()
	if w.WaitSynced(wait) {
		log.Info("kubernetes: watching this node's pods", "node", cfg.NodeName, "pods", w.Stats().Pods)
	} else {
		log.Warn("kubernetes: the API server has not listed this node's pods yet; pod labels and owners come when it does",
			"node", cfg.NodeName)
	}
	return w, cancel
}
