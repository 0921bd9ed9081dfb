package drift

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// Action is what was done about one drift.
type Action string

// Actions recorded.
const (
	Corrected Action = "corrected"
	Recreated Action = "recreated"
	Reported  Action = "reported"
)

// Record is one drift seen on an object a Stack applied.
type Record struct {
	Stack   types.NamespacedName
	Object  apply.ObjMetadata
	Fields  []string
	Manager string
	Action  Action
	Time    time.Time
	// Err is set when a correction failed.
	Err error
}

// Sink receives drift records.
type Sink interface {
	Drifted(ctx context.Context, r Record)
}

// Corrector re-applies one object as its Stack applies it and returns the
// server's copy.
type Corrector func(ctx context.Context, stack types.NamespacedName, desired *unstructured.Unstructured) (*unstructured.Unstructured, error)

// Target is one object a Stack applied: what it applies and what the
// server held right after.
type Target struct {
	Desired *unstructured.Unstructured
	Result  *unstructured.Unstructured
}

// Options configure a Watcher.
type Options struct {
	// FieldManager is Flotilla's server-side apply field manager.
	FieldManager string
	// Workers handle events in parallel.
	Workers int
	// Log receives the watches that became forbidden; the zero value
	// discards.
	Log logr.Logger
}

// Watch says how one Stack's objects are watched.
type Watch struct {
	Policy v1alpha1.DriftPolicy
	// Identity is the user the Stack applies as (see stackspec.Identity):
	// its informers list and watch as that user, by impersonation. Empty
	// is the agent's own identity.
	Identity string
}

// Watcher watches the objects of every tracked Stack.
type Watcher struct {
	config  *rest.Config
	mapper  meta.RESTMapper
	correct Corrector
	sink    Sink
	opts    Options
	queue   workqueue.TypedInterface[string]

	mu        sync.Mutex
	stacks    map[types.NamespacedName]*stackState
	objects   map[string]types.NamespacedName // object key -> Stack
	informers map[informerKey]*informer
	clients   map[string]*clients // by identity
	ctx       context.Context
}

type stackState struct {
	policy   v1alpha1.DriftPolicy
	identity string
	targets  map[string]*target
	watches  map[informerKey]bool
	// refused is set when some of the targets cannot be watched.
	refused  bool
	applying bool
}

type target struct {
	meta       apply.ObjMetadata
	gvr        schema.GroupVersionResource
	kind       schema.GroupVersionKind
	namespaced bool
	desired    *unstructured.Unstructured
	owned      *fieldpath.Set
}

// New returns a Watcher whose informers reach the cluster through cfg,
// impersonating each Stack's identity; Start runs it.
func New(cfg *rest.Config, mapper meta.RESTMapper, correct Corrector, sink Sink, opts Options) *Watcher {
	if opts.Workers < 1 {
		opts.Workers = 2
	}
	if opts.FieldManager == "" {
		opts.FieldManager = apply.DefaultOptions().FieldManager
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	return &Watcher{
		config: cfg, mapper: mapper, correct: correct, sink: sink, opts: opts,
		queue:     workqueue.NewTyped[string](),
		stacks:    map[types.NamespacedName]*stackState{},
		objects:   map[string]types.NamespacedName{},
		informers: map[informerKey]*informer{},
		clients:   map[string]*clients{},
		ctx:       context.Background(),
	}
}

// Start handles events until ctx ends; it implements manager.Runnable.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	var wg sync.WaitGroup
	for range w.opts.Workers {
		wg.Go(func() { w.work(ctx) })
	}
	<-ctx.Done()
	w.queue.ShutDown()
	wg.Wait()
	w.mu.Lock()
	for k, inf := range w.informers {
		close(inf.stop)
		delete(w.informers, k)
	}
	w.mu.Unlock()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the
// leader corrects drift.
func (w *Watcher) NeedLeaderElection() bool { return true }

// Begin marks the start of an apply of stack: its events are ignored until
// Track or End, since the apply itself sets every field.
func (w *Watcher) Begin(stack types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state(stack).applying = true
}

// End marks the end of a failed apply: the previous targets stay watched.
func (w *Watcher) End(stack types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st := w.stacks[stack]; st != nil {
		st.applying = false
	}
}

func (w *Watcher) state(stack types.NamespacedName) *stackState {
	st := w.stacks[stack]
	if st == nil {
		st = &stackState{targets: map[string]*target{}, watches: map[informerKey]bool{}}
		w.stacks[stack] = st
	}
	return st
}

// Track replaces the watched objects of stack after a successful apply.
// Each kind is watched as watch.Identity: cluster-wide when it may list and
// watch the kind everywhere, else in each namespace of the targets. A kind
// it may not watch somewhere yields a *WatchError (joined, one per kind and
// namespace); the rest is watched all the same, and Synced stays false so
// that the Stack's next reconcile applies in full and tries again.
func (w *Watcher) Track(ctx context.Context, stack types.NamespacedName, watch Watch, targets []Target) error {
	next, err := w.targets(targets)
	if err != nil {
		return err
	}
	return w.install(ctx, stack, watch, next)
}

// Amend follows an apply that wrote some objects and then failed (or
// stalled on the prune cap): the objects in targets are watched as that
// apply left them, the others as the last successful apply did. Without
// it, the watch would "correct" what the new revision wrote back to the
// previous revision's values, on every retry. Like Track, it ends the
// apply.
func (w *Watcher) Amend(ctx context.Context, stack types.NamespacedName, watch Watch, targets []Target) error {
	fresh, err := w.targets(targets)
	if err != nil {
		return err
	}
	next := map[string]*target{}
	w.mu.Lock()
	if st := w.stacks[stack]; st != nil {
		maps.Copy(next, st.targets)
	}
	w.mu.Unlock()
	maps.Copy(next, fresh)
	return w.install(ctx, stack, watch, next)
}

// install makes next the watched objects of stack, with the informers
// they need.
func (w *Watcher) install(ctx context.Context, stack types.NamespacedName, watch Watch, next map[string]*target) error {
	needs := needsOf(next)
	if _, err := w.clientsFor(watch.Identity); err != nil {
		return fmt.Errorf("watching as %s: %w", stackspec.IdentityName(watch.Identity), err)
	}
	planned, refused := w.plan(ctx, watch.Identity, needs)
	keys := make(map[informerKey]bool, len(planned))
	for _, k := range planned {
		keys[k] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state(stack)
	for k := range st.targets {
		delete(w.objects, k)
	}
	for k := range next {
		w.objects[k] = stack
	}
	w.retain(keys)
	w.release(st.watches)
	st.policy, st.identity, st.targets, st.watches = watch.Policy, watch.Identity, next, keys
	st.refused, st.applying = len(refused) > 0, false
	return errors.Join(refused...)
}

// targets indexes the targets by object key.
func (w *Watcher) targets(targets []Target) (map[string]*target, error) {
	next := map[string]*target{}
	for _, t := range targets {
		m := apply.MetadataOf(t.Desired)
		mapping, err := w.mapper.RESTMapping(m.GroupKind(), m.Version)
		if err != nil {
			return nil, fmt.Errorf("watching %s: %w", m, err)
		}
		owned := &fieldpath.Set{}
		if t.Result != nil {
			owned = ownedBy(t.Result.GetManagedFields(), w.opts.FieldManager)
		}
		next[key(mapping.Resource, m.Namespace, m.Name)] = &target{
			meta: m, gvr: mapping.Resource, kind: mapping.GroupVersionKind,
			namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace,
			desired:    t.Desired.DeepCopy(), owned: owned,
		}
	}
	return next, nil
}

// needsOf gathers what each kind of the targets needs watched.
func needsOf(targets map[string]*target) map[schema.GroupVersionResource]*need {
	needs := map[schema.GroupVersionResource]*need{}
	for _, t := range targets {
		n := needs[t.gvr]
		if n == nil {
			n = &need{kind: t.kind, gvr: t.gvr, namespaces: map[string]bool{}, namespaced: t.namespaced}
			needs[t.gvr] = n
		}
		if n.namespaced {
			n.namespaces[t.meta.Namespace] = true
		}
	}
	return needs
}

// Forget stops watching the objects of stack.
func (w *Watcher) Forget(stack types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stacks[stack]
	if st == nil {
		return
	}
	for k := range st.targets {
		delete(w.objects, k)
	}
	w.release(st.watches)
	delete(w.stacks, stack)
}

// Synced reports whether stack is tracked, every object of it is watched
// and every informer it needs has its initial list: only then may a
// reconcile trust the watch and skip work.
func (w *Watcher) Synced(stack types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stacks[stack]
	if st == nil || st.applying || st.refused {
		return false
	}
	for k := range st.watches {
		inf := w.informers[k]
		if inf == nil || inf.refused.Load() || !inf.inf.HasSynced() {
			return false
		}
	}
	return true
}

// informerFor returns the informer of stack st that watches t; callers
// hold mu.
func (w *Watcher) informerFor(st *stackState, t *target) *informer {
	for _, ns := range []string{"", t.meta.Namespace} {
		if k := (informerKey{identity: st.identity, gvr: t.gvr, namespace: ns}); st.watches[k] {
			return w.informers[k]
		}
	}
	return nil
}

func key(gvr schema.GroupVersionResource, ns, name string) string {
	return gvr.Group + "/" + gvr.Version + "/" + gvr.Resource + "|" + ns + "/" + name
}

// normalizeKey turns "ns/name" or "name" after the bar into "ns/name".
func normalizeKey(k string) string {
	gvr, rest, _ := strings.Cut(k, "|")
	if !strings.Contains(rest, "/") {
		rest = "/" + rest
	}
	return gvr + "|" + rest
}
