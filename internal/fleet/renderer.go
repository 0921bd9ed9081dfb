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
// content of the files the render can read, the path and the options. A
// render with variables is made from a shared render (shared.go) when its
// values allow. Callers share the objects it returns and must not modify
// them.
type renderer struct {
	tmp        string // where inputs are written for render.Build
	ph         placeholders
	exhaustive bool // no cache, no shared render, the whole tree: Options.exhaustive

	mu       sync.Mutex
	cache    map[string]*renderResult
	inputs   map[string]*inputDir // by the digest of the files
	closures map[pathAt]inputSet

	builds      atomic.Int64 // render.Build runs
	reused      atomic.Int64 // renders answered from the cache
	substituted atomic.Int64 // renders made from a shared render
}

type renderResult struct {
	done chan struct{}
	objs []*unstructured.Unstructured
	err  error
}

// inputDir is a set of input files written once to disk, shared by the
// renders that read them (a base rendered with each cluster's variables).
type inputDir struct {
	once sync.Once
	dir  string
	err  error
}

func newRenderer(tmp string) *renderer {
	return &renderer{tmp: tmp, ph: newPlaceholders(), cache: map[string]*renderResult{}, inputs: map[string]*inputDir{},
		closures: map[pathAt]inputSet{}}
}

// job is one render to run: its inputs, options and cache key.
type job struct {
	s      *Snapshot
	opts   render.Options
	files  []string
	exact  bool
	digest string // of the files
	key    string
	shared *sharedJob // nil: rendered on its own
}

// prepare finds the inputs of a render of opts.Path of snapshot s and its
// key; opts.Root is ignored. Two jobs with the same key render the same.
func (r *renderer) prepare(s *Snapshot, opts render.Options) job {
	in := r.inputsOf(s, opts.Path)
	return job{s: s, opts: opts, files: in.files, exact: in.exact, digest: in.digest, key: renderKey(in.digest, opts),
		shared: r.ph.shared(in.digest, opts)}
}

// inputSet is the inputs of one path of one snapshot.
type inputSet struct {
	files  []string
	exact  bool
	digest string
}

// pathAt names a path of a snapshot.
type pathAt struct {
	s    *Snapshot
	path string
}

// inputsOf returns the inputs of path in s, found once per plan: fifty
// clusters rendering one base ask for the same.
func (r *renderer) inputsOf(s *Snapshot, path string) inputSet {
	r.mu.Lock()
	in, ok := r.closures[pathAt{s, path}]
	r.mu.Unlock()
	if ok {
		return in
	}
	files, exact := s.inputs(path)
	if !exact {
		files = s.paths
	}
	in = inputSet{files: files, exact: exact, digest: s.digest(files)}
	r.mu.Lock()
	r.closures[pathAt{s, path}] = in
	r.mu.Unlock()
	return in
}

// render runs j, or waits for the run of an equal job.
func (r *renderer) render(ctx context.Context, j job) ([]*unstructured.Unstructured, error) {
	if r.exhaustive {
		r.builds.Add(1)
		j.exact = false
		return r.build(ctx, j)
	}
	return r.once(ctx, j.key, &r.reused, func() ([]*unstructured.Unstructured, error) {
		if j.shared != nil {
			if objs, ok := r.fromShared(ctx, j); ok {
				r.substituted.Add(1)
				return objs, nil
			}
		}
		r.builds.Add(1)
		return r.build(ctx, j)
	})
}

// fromShared makes j's objects from its shared render, rendering that
// once; false when the shared render failed or j's values refuse it.
func (r *renderer) fromShared(ctx context.Context, j job) ([]*unstructured.Unstructured, bool) {
	sj := j
	sj.opts, sj.key, sj.shared = j.shared.opts, j.shared.key, nil
	objs, err := r.once(ctx, sj.key, nil, func() ([]*unstructured.Unstructured, error) {
		r.builds.Add(1)
		return r.build(ctx, sj)
	})
	if err != nil {
		return nil, false
	}
	return j.shared.instance(objs)
}

// once returns the cached answer for key, waiting for its run if another
// goroutine runs it (counting the wait in reused, when not nil), or runs
// run and caches its answer.
func (r *renderer) once(ctx context.Context, key string, reused *atomic.Int64, run func() ([]*unstructured.Unstructured, error)) ([]*unstructured.Unstructured, error) {
	r.mu.Lock()
	res, ok := r.cache[key]
	if !ok {
		res = &renderResult{done: make(chan struct{})}
		r.cache[key] = res
	}
	r.mu.Unlock()
	if ok {
		if reused != nil {
			reused.Add(1)
		}
		select {
		case <-res.done:
			return res.objs, res.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res.objs, res.err = run()
	close(res.done)
	return res.objs, res.err
}

// renderKey identifies a render by the digest of its inputs and its options.
func renderKey(inputs string, opts render.Options) string {
	opts.Root = ""
	b, _ := json.Marshal(opts) // plain data: maps, strings and slices
	return inputs + "\x00" + string(b)
}

// build renders from the job's inputs alone; when that fails it renders
// from the whole tree, whose answer (objects or error) is the one the agent
// would get.
func (r *renderer) build(ctx context.Context, j job) ([]*unstructured.Unstructured, error) {
	opts := j.opts
	if j.exact {
		dir, err := r.inputDir(ctx, j)
		if err != nil {
			return nil, err
		}
		opts.Root = dir
		if objs, err := render.Build(ctx, opts); err == nil {
			return objs, nil
		}
	}
	root, err := j.s.full(ctx, r.tmp)
	if err != nil {
		return nil, err
	}
	opts.Root = root
	return render.Build(ctx, opts)
}

// inputDir writes the job's inputs to a directory, once per set of files.
func (r *renderer) inputDir(ctx context.Context, j job) (string, error) {
	r.mu.Lock()
	d, ok := r.inputs[j.digest]
	if !ok {
		d = &inputDir{}
		r.inputs[j.digest] = d
	}
	r.mu.Unlock()
	d.once.Do(func() {
		d.dir, d.err = os.MkdirTemp(r.tmp, "inputs-")
		if d.err == nil {
			d.err = j.s.materialize(ctx, d.dir, j.files)
		}
	})
	return d.dir, d.err
}
