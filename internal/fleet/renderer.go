package fleet

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/render"
)

// renderer renders through internal/render, once per distinct input: the
// content of the files the render can read, the path and the options.
// Callers share the objects it returns and must not modify them.
type renderer struct {
	tmp string // where inputs are written for render.Build

	mu    sync.Mutex
	cache map[string]*renderResult

	builds atomic.Int64 // renders run
	reused atomic.Int64 // renders answered from the cache
}

type renderResult struct {
	done chan struct{}
	objs []*unstructured.Unstructured
	err  error
}

func newRenderer(tmp string) *renderer {
	return &renderer{tmp: tmp, cache: map[string]*renderResult{}}
}

// job is one render to run: its inputs, options and cache key.
type job struct {
	s     *Snapshot
	opts  render.Options
	files []string
	exact bool
	key   string
}

// prepare finds the inputs of a render of opts.Path of snapshot s and its
// key; opts.Root is ignored. Two jobs with the same key render the same.
func (r *renderer) prepare(s *Snapshot, opts render.Options) job {
	files, exact := s.inputs(opts.Path)
	if !exact {
		files = s.paths
	}
	return job{s: s, opts: opts, files: files, exact: exact, key: renderKey(s.digest(files), opts)}
}

// render runs j, or waits for the run of an equal job.
func (r *renderer) render(ctx context.Context, j job) ([]*unstructured.Unstructured, error) {
	r.mu.Lock()
	res, ok := r.cache[j.key]
	if !ok {
		res = &renderResult{done: make(chan struct{})}
		r.cache[j.key] = res
	}
	r.mu.Unlock()
	if ok {
		r.reused.Add(1)
		select {
		case <-res.done:
			return res.objs, res.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.builds.Add(1)
	res.objs, res.err = r.build(ctx, j.s, j.opts, j.files, j.exact)
	close(res.done)
	return res.objs, res.err
}

// renderKey identifies a render by the digest of its inputs and its options.
func renderKey(inputs string, opts render.Options) string {
	opts.Root = ""
	b, _ := json.Marshal(opts) // plain data: maps, strings and slices
	return inputs + "\x00" + string(b)
}

// build writes the inputs to a temporary root and renders there; when that
// fails it renders from the whole tree, whose answer (objects or error) is
// the one the agent would get.
func (r *renderer) build(ctx context.Context, s *Snapshot, opts render.Options, files []string, exact bool) ([]*unstructured.Unstructured, error) {
	if exact {
		dir, err := os.MkdirTemp(r.tmp, "render-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if err := s.materialize(ctx, dir, files); err != nil {
			return nil, err
		}
		opts.Root = dir
		if objs, err := render.Build(ctx, opts); err == nil {
			return objs, nil
		}
	}
	root, err := s.full(ctx, r.tmp)
	if err != nil {
		return nil, err
	}
	opts.Root = root
	return render.Build(ctx, opts)
}
