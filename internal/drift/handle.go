package drift

import (
	"context"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func (w *Watcher) work(ctx context.Context) {
	for {
		k, shutdown := w.queue.Get()
		if shutdown {
			return
		}
		w.handle(ctx, normalizeKey(k))
		w.queue.Done(k)
	}
}

// handle looks at the current state of one watched object.
func (w *Watcher) handle(ctx context.Context, k string) {
	w.mu.Lock()
	stack, tracked := w.objects[k]
	st := w.stacks[stack]
	var t *target
	var inf *informer
	var policy v1alpha1.DriftPolicy
	applying := false
	if tracked && st != nil {
		t, policy, applying = st.targets[k], st.policy, st.applying
	}
	if t != nil {
		inf = w.informerFor(st, t)
	}
	w.mu.Unlock()
	if t == nil || inf == nil || applying || policy == v1alpha1.DriftIgnore {
		return
	}
	_, nsName, _ := strings.Cut(k, "|")
	item, exists, err := inf.inf.GetStore().GetByKey(strings.TrimPrefix(nsName, "/"))
	if err != nil {
		return
	}
	if !exists {
		if !inf.inf.HasSynced() {
			// Not listed yet: absent from the store means unknown, not
			// deleted. A "recreate" now would also re-apply over an edit
			// made meanwhile and record it as a deletion. Look again once
			// the informer has listed.
			go w.afterSync(inf, k)
			return
		}
		w.deleted(ctx, stack, policy, t)
		return
	}
	if live, ok := item.(*metav1.PartialObjectMetadata); ok {
		w.updated(ctx, stack, policy, t, live)
	}
}

// updated compares the fields Flotilla owns now with those it owned after
// its apply; fields it lost were taken by another manager.
func (w *Watcher) updated(ctx context.Context, stack types.NamespacedName, policy v1alpha1.DriftPolicy, t *target, live *metav1.PartialObjectMetadata) {
	if live.Annotations[v1alpha1.DriftIgnoreAnnotation] == "ignore" {
		return
	}
	w.mu.Lock()
	current := ownedBy(live.ManagedFields, w.opts.FieldManager)
	lost := t.owned.Difference(current)
	if lost.Empty() {
		w.mu.Unlock()
		return
	}
	rec := Record{Stack: stack, Object: t.meta, Fields: paths(lost), Time: time.Now(), Action: Reported}
	if m := takers(live.ManagedFields, w.opts.FieldManager, lost); len(m) > 0 {
		rec.Manager = strings.Join(m, ",")
	}
	if policy != v1alpha1.DriftCorrect {
		t.owned = current // reported once, not at every later event
	}
	desired := t.desired
	w.mu.Unlock()
	if policy == v1alpha1.DriftCorrect {
		rec.Action = Corrected
		rec.Err = w.reapply(ctx, stack, t, desired)
	}
	w.sink.Drifted(ctx, rec)
}

// deleted recreates (or reports) an object deleted behind Flotilla's back.
func (w *Watcher) deleted(ctx context.Context, stack types.NamespacedName, policy v1alpha1.DriftPolicy, t *target) {
	rec := Record{Stack: stack, Object: t.meta, Time: time.Now(), Action: Reported, Fields: []string{"(object deleted)"}}
	if policy == v1alpha1.DriftCorrect {
		rec.Action = Recreated
		rec.Err = w.reapply(ctx, stack, t, t.desired)
	}
	w.sink.Drifted(ctx, rec)
}

func (w *Watcher) reapply(ctx context.Context, stack types.NamespacedName, t *target, desired *unstructured.Unstructured) error {
	res, err := w.correct(ctx, stack, desired.DeepCopy())
	if err != nil {
		return err
	}
	w.mu.Lock()
	t.owned = ownedBy(res.GetManagedFields(), w.opts.FieldManager)
	w.mu.Unlock()
	return nil
}

// afterSync queues k again once inf has listed (or stopped).
func (w *Watcher) afterSync(inf *informer, k string) {
	if cache.WaitForCacheSync(inf.stop, inf.inf.HasSynced) {
		w.queue.Add(k)
	}
}
