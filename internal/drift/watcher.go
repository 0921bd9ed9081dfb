package drift

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
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
}

// Watcher watches the objects of every tracked Stack.
type Watcher struct {
	client  metadata.Interface
	mapper  meta.RESTMapper
	correct Corrector
	sink    Sink
	opts    Options
	queue   workqueue.TypedInterface[string]

	mu        sync.Mutex
	stacks    map[types.NamespacedName]*stackState
	objects   map[string]types.NamespacedName // object key -> Stack
	informers map[schema.GroupVersionResource]*informer
	ctx       context.Context
}

type stackState struct {
	policy   v1alpha1.DriftPolicy
	targets  map[string]*target
	gvrs     map[schema.GroupVersionResource]bool
	applying bool
}

type target struct {
	meta    apply.ObjMetadata
	desired *unstructured.Unstructured
	owned   *fieldpath.Set
}

type informer struct {
	inf  cache.SharedIndexInformer
	stop chan struct{}
	refs int
}

// New returns a Watcher; Start runs it.
func New(client metadata.Interface, mapper meta.RESTMapper, correct Corrector, sink Sink, opts Options) *Watcher {
	if opts.Workers < 1 {
		opts.Workers = 2
	}
	if opts.FieldManager == "" {
		opts.FieldManager = apply.DefaultOptions().FieldManager
	}
	return &Watcher{
		client: client, mapper: mapper, correct: correct, sink: sink, opts: opts,
		queue:     workqueue.NewTyped[string](),
		stacks:    map[types.NamespacedName]*stackState{},
		objects:   map[string]types.NamespacedName{},
		informers: map[schema.GroupVersionResource]*informer{},
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
	for gvr, inf := range w.informers {
		close(inf.stop)
		delete(w.informers, gvr)
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
		st = &stackState{targets: map[string]*target{}, gvrs: map[schema.GroupVersionResource]bool{}}
		w.stacks[stack] = st
	}
	return st
}

// Track replaces the watched objects of stack after a successful apply.
func (w *Watcher) Track(stack types.NamespacedName, policy v1alpha1.DriftPolicy, targets []Target) error {
	next := map[string]*target{}
	gvrs := map[schema.GroupVersionResource]bool{}
	for _, t := range targets {
		m := apply.MetadataOf(t.Desired)
		gvr, err := w.resource(m)
		if err != nil {
			return err
		}
		gvrs[gvr] = true
		owned := &fieldpath.Set{}
		if t.Result != nil {
			owned = ownedBy(t.Result.GetManagedFields(), w.opts.FieldManager)
		}
		next[key(gvr, m.Namespace, m.Name)] = &target{meta: m, desired: t.Desired.DeepCopy(), owned: owned}
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
	w.retain(gvrs)
	w.release(st.gvrs)
	st.policy, st.targets, st.gvrs, st.applying = policy, next, gvrs, false
	return nil
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
	w.release(st.gvrs)
	delete(w.stacks, stack)
}

// Synced reports whether stack is tracked and every informer it needs has
// its initial list: only then may a reconcile trust the watch and skip work.
func (w *Watcher) Synced(stack types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stacks[stack]
	if st == nil || st.applying {
		return false
	}
	for gvr := range st.gvrs {
		inf := w.informers[gvr]
		if inf == nil || !inf.inf.HasSynced() {
			return false
		}
	}
	return true
}

func (w *Watcher) resource(m apply.ObjMetadata) (schema.GroupVersionResource, error) {
	mapping, err := w.mapper.RESTMapping(m.GroupKind(), m.Version)
	if err != nil {
		return schema.GroupVersionResource{}, fmt.Errorf("watching %s: %w", m, err)
	}
	return mapping.Resource, nil
}

func key(gvr schema.GroupVersionResource, ns, name string) string {
	return gvr.Group + "/" + gvr.Version + "/" + gvr.Resource + "|" + ns + "/" + name
}

// retain starts informers for gvrs not watched yet; callers hold mu.
func (w *Watcher) retain(gvrs map[schema.GroupVersionResource]bool) {
	for gvr := range gvrs {
		if inf := w.informers[gvr]; inf != nil {
			inf.refs++
			continue
		}
		w.informers[gvr] = w.startInformer(gvr)
	}
}

// release stops informers no Stack needs any more; callers hold mu.
func (w *Watcher) release(gvrs map[schema.GroupVersionResource]bool) {
	for gvr := range gvrs {
		inf := w.informers[gvr]
		if inf == nil {
			continue
		}
		if inf.refs--; inf.refs <= 0 {
			close(inf.stop)
			delete(w.informers, gvr)
		}
	}
}

func (w *Watcher) startInformer(gvr schema.GroupVersionResource) *informer {
	gi := metadatainformer.NewFilteredMetadataInformer(w.client, gvr, metav1.NamespaceAll, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = apply.OwnerNameLabel })
	inf := &informer{inf: gi.Informer(), stop: make(chan struct{}), refs: 1}
	enqueue := func(obj any) {
		if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			w.queue.Add(gvr.Group + "/" + gvr.Version + "/" + gvr.Resource + "|" + k)
		}
	}
	// Adds matter too: an edit made between an apply and the informer's
	// first list shows up only as an add.
	_, _ = inf.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, n any) { enqueue(n) },
		DeleteFunc: enqueue,
	})
	go inf.inf.Run(inf.stop)
	return inf
}

// normalizeKey turns "ns/name" or "name" after the bar into "ns/name".
func normalizeKey(k string) string {
	gvr, rest, _ := strings.Cut(k, "|")
	if !strings.Contains(rest, "/") {
		rest = "/" + rest
	}
	return gvr + "|" + rest
}
