package apply

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Manager runs apply, prune and wait against one cluster. Its client must
// read live (uncached) and may impersonate a service account.
type Manager struct {
	client client.Client
	opts   Options
}

// NewManager returns a Manager that uses c with opts.
func NewManager(c client.Client, opts Options) *Manager {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if opts.FieldManager == "" {
		opts.FieldManager = DefaultOptions().FieldManager
	}
	return &Manager{client: c, opts: opts}
}

// each runs fn for every item with bounded concurrency and collects the
// per-item errors (it does not stop at the first).
func each[T any](ctx context.Context, limit int, items []T, fn func(context.Context, T) error) []error {
	var mu sync.Mutex
	var errs []error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, it := range items {
		g.Go(func() error {
			if err := fn(gctx, it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil && len(errs) == 0 {
		errs = append(errs, err)
	}
	return errs
}
