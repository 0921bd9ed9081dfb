package drift

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// liveConfigMap is the metadata of a ConfigMap a Stack applied, with its
// managed fields.
func liveConfigMap(ns, name string, managed ...metav1.ManagedFieldsEntry) *metav1.PartialObjectMetadata {
	pm := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{apply.OwnerNameLabel: "apps"}, ManagedFields: managed},
	}
	return pm
}

// watcherOn returns a Watcher whose identity "" lists and watches through
// a fake metadata client holding objs, allowed by access reviews as
// allowed says.
func watcherOn(t *testing.T, allowed map[string]bool, sink Sink, correct Corrector, objs ...runtime.Object) (*Watcher, *metadatafake.FakeMetadataClient) {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	md := metadatafake.NewSimpleMetadataClient(scheme, objs...)
	w := New(nil, testMapper(), correct, sink, Options{FieldManager: self})
	w.clients[""] = &clients{meta: md, access: reviews(allowed, nil).AuthorizationV1().SelfSubjectAccessReviews()}
	return w, md
}

// eventuallyTrue polls cond until it holds, failing the test after a
// generous bound; the bound is not what the test checks.
func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var everywhere = map[string]bool{"|list": true, "|watch": true}

func TestTrackSharesInformersAndForgetReleasesThem(t *testing.T) {
	w, _ := watcherOn(t, everywhere, &recorder{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Start(ctx) }()

	a, b := types.NamespacedName{Namespace: "team-a", Name: "apps"}, types.NamespacedName{Namespace: "team-b", Name: "apps"}
	for _, st := range []types.NamespacedName{a, b} {
		if err := w.Track(ctx, st, Watch{Policy: v1alpha1.DriftCorrect}, []Target{{Desired: object("ConfigMap", st.Namespace, "settings")}}); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"|/v1/configmaps|"}, w.Informers()); diff != "" {
		t.Errorf("informers (-want +got): two Stacks of one identity share one cluster-wide informer\n%s", diff)
	}
	eventuallyTrue(t, "Synced(team-a/apps)", func() bool { return w.Synced(a) })

	w.Begin(a)
	if w.Synced(a) {
		t.Error("a Stack in the middle of an apply is Synced")
	}
	w.End(a)
	if !w.Synced(a) {
		t.Error("End did not end the apply")
	}

	w.Forget(a)
	if w.Synced(a) || len(w.Informers()) != 1 {
		t.Errorf("after forgetting team-a: Synced %v, informers %v; want false and team-b's informer kept", w.Synced(a), w.Informers())
	}
	w.Forget(b)
	if got := w.Informers(); len(got) != 0 {
		t.Errorf("informers after forgetting every Stack = %v, want none", got)
	}
	w.Forget(b) // forgetting twice is harmless
}

func TestTrackWhereWatchingIsForbiddenIsReportedAndNotSynced(t *testing.T) {
	w, _ := watcherOn(t, map[string]bool{"team-a|list": true, "team-a|watch": true}, &recorder{}, nil)
	ctx := context.Background()
	st := types.NamespacedName{Namespace: "team-a", Name: "apps"}
	err := w.Track(ctx, st, Watch{Policy: v1alpha1.DriftCorrect}, []Target{
		{Desired: object("ConfigMap", "team-a", "settings")},
		{Desired: object("ConfigMap", "team-b", "shared")},
	})
	var we *WatchError
	if !errors.As(err, &we) || we.Namespace != "team-b" || !errors.Is(err, ErrWatchForbidden) {
		t.Fatalf("err = %v, want a forbidden WatchError for team-b", err)
	}
	if diff := cmp.Diff([]string{"|/v1/configmaps|team-a"}, w.Informers()); diff != "" {
		t.Errorf("informers (-want +got): the allowed namespace is watched all the same\n%s", diff)
	}
	if w.Synced(st) {
		t.Error("a Stack with a refused watch is Synced: its reconcile would skip the full apply")
	}
	w.Forget(st)
}

func TestTrackOfAnUnknownKindFailsBeforeWatching(t *testing.T) {
	w, _ := watcherOn(t, everywhere, &recorder{}, nil)
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("example.com/v1")
	u.SetKind("Widget")
	u.SetName("w")
	err := w.Track(context.Background(), types.NamespacedName{Name: "s"}, Watch{}, []Target{{Desired: u}})
	if err == nil || !strings.Contains(err.Error(), "watching Widget/w") {
		t.Fatalf("err = %v", err)
	}
	if len(w.Informers()) != 0 {
		t.Errorf("informers = %v after a failed Track", w.Informers())
	}
}

func TestAmendKeepsTheOtherTargets(t *testing.T) {
	w, _ := watcherOn(t, everywhere, &recorder{}, nil)
	ctx := context.Background()
	st := types.NamespacedName{Namespace: "team-a", Name: "apps"}
	if err := w.Track(ctx, st, Watch{}, []Target{{Desired: object("ConfigMap", "team-a", "one")}, {Desired: object("ConfigMap", "team-a", "two")}}); err != nil {
		t.Fatal(err)
	}
	written := object("ConfigMap", "team-a", "two", entry(self, metav1.ManagedFieldsOperationApply, 0, dataB))
	if err := w.Amend(ctx, st, Watch{}, []Target{{Desired: object("ConfigMap", "team-a", "two"), Result: written}}); err != nil {
		t.Fatal(err)
	}
	defer w.Forget(st)
	w.mu.Lock()
	defer w.mu.Unlock()
	targets := w.stacks[st].targets
	if len(targets) != 2 || targets[key(configMaps, "team-a", "one")] == nil {
		t.Fatalf("targets after Amend = %v, want one and two", targets)
	}
	if got := paths(targets[key(configMaps, "team-a", "two")].owned); !cmp.Equal(got, []string{".data.b"}) {
		t.Errorf("two owns %v after Amend, want what the failed apply left: [.data.b]", got)
	}
}

func TestAHandEditIsCorrectedThroughTheWatch(t *testing.T) {
	applied := []metav1.ManagedFieldsEntry{entry(self, metav1.ManagedFieldsOperationApply, 0, dataAB)}
	edited := []metav1.ManagedFieldsEntry{
		entry(self, metav1.ManagedFieldsOperationApply, 0, dataB),
		entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
	}
	sink := &recorder{}
	fix := &correction{result: object("ConfigMap", "team-a", "settings", applied...)}
	w, md := watcherOn(t, everywhere, sink, fix.correct, liveConfigMap("team-a", "settings", applied...))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Start(ctx) }()

	st := types.NamespacedName{Namespace: "team-a", Name: "apps"}
	if err := w.Track(ctx, st, Watch{Policy: v1alpha1.DriftCorrect}, []Target{{
		Desired: object("ConfigMap", "team-a", "settings"),
		Result:  object("ConfigMap", "team-a", "settings", applied...),
	}}); err != nil {
		t.Fatal(err)
	}
	eventuallyTrue(t, "Synced", func() bool { return w.Synced(st) })
	if _, err := md.Resource(configMaps).Namespace("team-a").(metadatafake.MetadataClient).UpdateFake(liveConfigMap("team-a", "settings", edited...), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyTrue(t, "a drift record", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return len(sink.records) > 0
	})
	sink.mu.Lock()
	got := sink.records[0]
	sink.mu.Unlock()
	want := Record{Stack: st, Object: apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "settings"},
		Fields: []string{".data.a"}, Manager: "kubectl-edit", Action: Corrected}
	if diff := cmp.Diff(want, got, cmp.Comparer(sameError)); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if fix.calls < 1 {
		t.Error("the drift was not corrected")
	}
}
