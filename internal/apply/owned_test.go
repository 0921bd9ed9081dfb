package apply_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// requestLog counts the engine's requests by verb and kind: "get
// ConfigMap", "list ConfigMap", "dry-run ConfigMap", "apply ConfigMap",
// "delete ConfigMap".
type requestLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func (l *requestLog) add(verb, kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[verb+" "+kind]++
}

// take returns the counts so far of the given kind and starts over.
func (l *requestLog) take(kind string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, n := range l.counts {
		if len(k) > len(kind) && k[len(k)-len(kind)-1:] == " "+kind {
			out[k] = n
		}
	}
	l.counts = map[string]int{}
	return out
}

// countingManager returns an engine like manager's whose requests are
// counted.
func (f *fixture) countingManager(owner string) (*apply.Manager, *requestLog) {
	log := &requestLog{counts: map[string]int{}}
	kindOf := func(c client.WithWatch, obj runtime.Object) string {
		gvk, err := c.GroupVersionKindFor(obj)
		if err != nil {
			return fmt.Sprintf("%T", obj)
		}
		return gvk.Kind
	}
	c := interceptor.NewClient(f.live, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			log.add("get", kindOf(c, obj))
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			kind := kindOf(c, list)
			log.add("list", kind[:len(kind)-len("List")])
			return c.List(ctx, list, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			verb := "apply"
			if o := (&client.ApplyOptions{}).ApplyOptions(opts); len(o.DryRun) > 0 {
				verb = "dry-run"
			}
			kind := "unknown"
			if k, ok := obj.(interface{ GetKind() string }); ok {
				kind = k.GetKind()
			}
			log.add(verb, kind)
			return c.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			log.add("delete", kindOf(c, obj))
			return c.Delete(ctx, obj, opts...)
		},
	})
	return apply.NewManager(c, f.options(owner)), log
}

// configMaps returns n ConfigMaps of the test's namespace with value.
func (f *fixture) configMaps(n int, value string) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, n)
	for i := range out {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": fmt.Sprintf("cm-%d", i), "namespace": f.Namespace},
			"data":     map[string]any{"value": value},
		}}
		out[i] = u
	}
	return out
}

// TestApplyReadsOwnedObjectsWithOneListPerKind checks the requests an
// apply sends: new objects are dry-run without a read, objects the Stack
// owns are read with one LIST per kind and namespace, and the decisions
// (created, unchanged, configured) are those one read per object gave.
func TestApplyReadsOwnedObjectsWithOneListPerKind(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	ctx := context.Background()
	mgr, log := f.countingManager("lister")

	cs, err := mgr.Apply(ctx, f.configMaps(5, "one"))
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if got := cs.Count(apply.Created); got != 5 {
		t.Errorf("first apply created %d objects, want 5: %v", got, cs.Changes)
	}
	want := map[string]int{"list ConfigMap": 1, "dry-run ConfigMap": 5, "apply ConfigMap": 5}
	if diff := cmp.Diff(want, log.take("ConfigMap")); diff != "" {
		t.Errorf("first apply's requests (-want +got):\n%s", diff)
	}

	if cs, err = mgr.Apply(ctx, f.configMaps(5, "one")); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if got := cs.Count(apply.Unchanged); got != 5 {
		t.Errorf("the same set applied again: %d unchanged, want 5: %v", got, cs.Changes)
	}
	want = map[string]int{"list ConfigMap": 1, "dry-run ConfigMap": 5}
	if diff := cmp.Diff(want, log.take("ConfigMap")); diff != "" {
		t.Errorf("unchanged apply's requests (-want +got):\n%s", diff)
	}

	changed := f.configMaps(5, "one")
	changed[2].Object["data"] = map[string]any{"value": "two"}
	if cs, err = mgr.Apply(ctx, changed); err != nil {
		t.Fatalf("third apply: %v", err)
	}
	if got := cs.Objects(apply.Configured); len(got) != 1 || got[0].Name != "cm-2" {
		t.Errorf("one ConfigMap changed: configured %v, want [cm-2]", got)
	}
}

// TestApplyStillJudgesObjectsItsListDidNotReturn checks the objects a
// LIST by owner labels cannot return: one created by hand is adopted (and
// counted as configured, not created), one another Stack applied is
// refused as before.
func TestApplyStillJudgesObjectsItsListDidNotReturn(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	ctx := context.Background()
	objs := f.configMaps(4, "one")

	byHand := objs[0].DeepCopy()
	byHand.Object["data"] = map[string]any{"value": "by hand"}
	if err := f.live.Create(ctx, byHand); err != nil {
		t.Fatal(err)
	}
	mgr, _ := f.countingManager("adopter")
	cs, err := mgr.Apply(ctx, objs)
	if err != nil {
		t.Fatalf("apply over an object created by hand: %v", err)
	}
	if got := cs.Objects(apply.Configured); len(got) != 1 || got[0].Name != "cm-0" {
		t.Errorf("configured %v, want the one created by hand, [cm-0]", got)
	}
	if got := f.get(apply.MetadataOf(objs[0])).GetLabels()[apply.OwnerNameLabel]; got != "adopter" {
		t.Errorf("the adopted object's owner label is %q, want adopter", got)
	}

	other, _ := f.countingManager("other")
	_, err = other.Apply(ctx, f.configMaps(4, "one"))
	var owned *apply.OwnershipError
	if !errors.As(err, &owned) {
		t.Fatalf("another Stack's apply of the same objects: %v, want an *apply.OwnershipError", err)
	}
}

// TestPruneDeletesListedObjectsWithoutReadingEach checks a prune's
// requests: one LIST per kind and namespace, then the deletes; objects
// the LIST did not return (gone already, or not the Stack's) are still
// judged one by one.
func TestPruneDeletesListedObjectsWithoutReadingEach(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	ctx := context.Background()
	mgr, log := f.countingManager("pruner")
	objs := f.configMaps(6, "one")
	if _, err := mgr.Apply(ctx, objs); err != nil {
		t.Fatal(err)
	}
	stale := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		stale = append(stale, apply.MetadataOf(o))
	}
	// One is gone before the prune, one lost its owner labels (a hand edit).
	if err := f.live.Delete(ctx, objs[0]); err != nil {
		t.Fatal(err)
	}
	handed := f.get(stale[1])
	handed.SetLabels(nil)
	if err := f.live.Update(ctx, handed); err != nil {
		t.Fatal(err)
	}
	log.take("ConfigMap")

	cs, err := mgr.Prune(ctx, stale)
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	if got := len(cs.Objects(apply.Deleted)); got != 5 {
		t.Errorf("deleted %d objects (the gone one counts), want 5: %v", got, cs.Changes)
	}
	if got := cs.Objects(apply.Skipped); len(got) != 1 || got[0].Name != "cm-1" {
		t.Errorf("skipped %v, want the unlabelled one, [cm-1]", got)
	}
	want := map[string]int{"list ConfigMap": 1, "get ConfigMap": 2, "delete ConfigMap": 4}
	if diff := cmp.Diff(want, log.take("ConfigMap")); diff != "" {
		t.Errorf("prune's requests (-want +got):\n%s", diff)
	}
	if exists, _ := f.exists(stale[1]); !exists {
		t.Error("the object without owner labels was deleted")
	}
}
