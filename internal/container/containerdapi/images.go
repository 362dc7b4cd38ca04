package containerdapi

import (
	"context"
	"sync"

	"github.com/containerd/containerd/v2/client"
)

// maxImages bounds the cache of config digests by manifest digest.
const maxImages = 512

// imageCache maps an image's target (manifest or index) digest to its
// config digest, which is the image id. Both are content addresses, so an
// entry never goes stale; names are looked up every time because tags move.
type imageCache struct {
	mu     sync.Mutex
	config map[string]string
}

func newImageCache() *imageCache { return &imageCache{config: map[string]string{}} }

// lookup returns an image's digest and id. Failure is not an error for the
// caller: an image that was removed or is still being pulled leaves them
// empty and the container is described without them.
func (ic *imageCache) lookup(ctx context.Context, cli *client.Client, ns, name string) (digest, id string) {
	img, err := cli.GetImage(ctx, name)
	if err != nil {
		return "", ""
	}
	digest = img.Target().Digest.String()
	key := ns + "/" + digest
	ic.mu.Lock()
	id, ok := ic.config[key]
	ic.mu.Unlock()
	if ok {
		return digest, id
	}
	cfg, err := img.Config(ctx)
	if err != nil {
		return digest, ""
	}
	id = cfg.Digest.String()
	ic.mu.Lock()
	if len(ic.config) >= maxImages {
		clear(ic.config)
	}
	ic.config[key] = id
	ic.mu.Unlock()
	return digest, id
}
