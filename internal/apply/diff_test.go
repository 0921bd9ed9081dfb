package apply_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// diffActions maps each ObjectDiff, by String, to its action.
func diffActions(diffs []apply.ObjectDiff) map[string]apply.Action {
	out := map[string]apply.Action{}
	for _, d := range diffs {
		out[d.Object.String()] = d.Action
	}
	return out
}

func TestDiffNewObjectsWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	cm := f.load("configmap.yaml", "NAME", "settings", "VALUE", "1")
	m, log := f.recordingManager("app")

	diffs, err := m.Diff(context.Background(), cm)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	if len(diffs) != 1 || diffs[0].Action != apply.Created || diffs[0].Live != nil {
		t.Fatalf("diffs = %+v, want one Created without a live object", diffs)
	}
	merged := diffs[0].Merged
	if merged.GetLabels()[apply.OwnerNameLabel] != "app" {
		t.Errorf("merged labels = %v, want the owner labels the apply sets", merged.GetLabels())
	}
	if merged.GetUID() != "" || merged.Object["metadata"].(map[string]any)["creationTimestamp"] != nil || merged.GetManagedFields() != nil {
		t.Errorf("merged keeps noise: %v", merged.Object["metadata"])
	}
	if w := log.Writes(); len(w) != 0 {
		t.Errorf("Diff wrote %v", w)
	}
	if ok, _ := f.exists(apply.MetadataOf(cm[0])); ok {
		t.Error("the ConfigMap exists after a Diff")
	}
}

func TestDiffChangedAndUnchanged(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	mustApply(t, f.manager("app"), concat(
		f.load("configmap.yaml", "NAME", "same", "VALUE", "1"),
		f.load("configmap.yaml", "NAME", "changed", "VALUE", "1")))
	next := concat(
		f.load("configmap.yaml", "NAME", "same", "VALUE", "1"),
		f.load("configmap.yaml", "NAME", "changed", "VALUE", "2"))

	diffs, err := f.manager("app").Diff(context.Background(), next)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	want := map[string]apply.Action{
		"ConfigMap/" + f.Namespace + "/same":    apply.Unchanged,
		"ConfigMap/" + f.Namespace + "/changed": apply.Configured,
	}
	if diff := cmp.Diff(want, diffActions(diffs)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	changed := diffs[1]
	before, _, _ := unstructured.NestedString(changed.Live.Object, "data", "x")
	after, _, _ := unstructured.NestedString(changed.Merged.Object, "data", "x")
	if before != "1" || after != "2" {
		t.Errorf("data.x live %q merged %q, want 1 and 2", before, after)
	}
	if got := f.get(apply.MetadataOf(next[1])); got.Object["data"].(map[string]any)["x"] != "1" {
		t.Errorf("Diff changed the live object: %v", got.Object["data"])
	}
}

func TestDiffObjectsOfANewNamespaceAreCreatedUnvalidated(t *testing.T) {
	f := newFixture(t)
	objs := concat(f.load("namespace.yaml"), f.load("configmap.yaml", "NAME", "settings", "VALUE", "1"))

	diffs, err := f.manager("app").Diff(context.Background(), objs)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	if len(diffs) != 2 || diffs[0].Action != apply.Created || diffs[1].Action != apply.Created {
		t.Fatalf("diffs = %+v, want both Created", diffs)
	}
	if diffs[1].Note != apply.NoteComesWithSet || diffs[1].Merged.GetName() != "settings" {
		t.Errorf("the ConfigMap's diff = %+v, want the rendered object with the note %q", diffs[1], apply.NoteComesWithSet)
	}
	if ok, _ := f.exists(apply.MetadataOf(objs[0])); ok {
		t.Error("Diff created the Namespace")
	}
}

func TestDiffNamesRefusedObjects(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := concat(f.load("service-invalid-port.yaml"), f.load("configmap.yaml", "NAME", "fine", "VALUE", "1"))

	_, err := f.manager("app").Diff(context.Background(), objs)
	failures := validationFailures(t, err)
	if _, ok := failures["Service/"+f.Namespace+"/port-out-of-range"]; !ok || len(failures) != 1 {
		t.Errorf("failures = %v, want the Service alone", failures)
	}
}

func TestDiffPrune(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	owned := f.load("configmap.yaml", "NAME", "owned", "VALUE", "1")
	kept := f.load("configmap-prune-disabled.yaml", "NAME", "kept")
	mustApply(t, f.manager("app"), concat(owned, kept))
	gone := apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: f.Namespace, Name: "gone"}
	stale := append(metadataOf(concat(owned, kept)), gone)
	m, log := f.recordingManager("app")

	diffs, err := m.DiffPrune(context.Background(), stale)
	if err != nil {
		t.Fatalf("DiffPrune: %v", err)
	}
	want := map[string]apply.Action{
		"ConfigMap/" + f.Namespace + "/owned": apply.Deleted,
		"ConfigMap/" + f.Namespace + "/kept":  apply.Skipped,
	}
	if diff := cmp.Diff(want, diffActions(diffs)); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if len(diffs) == 2 && diffs[1].Note != "flotilla.io/prune: disabled" {
		t.Errorf("the kept object's note = %q", diffs[1].Note)
	}
	if w := log.Writes(); len(w) != 0 {
		t.Errorf("DiffPrune wrote %v", w)
	}
}

func TestStripNoise(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": "a", "uid": "u", "resourceVersion": "7", "generation": int64(2),
			"creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": []any{map[string]any{"manager": "x"}},
			"labels": map[string]any{"keep": "me"},
		},
		"data":   map[string]any{"x": "1"},
		"status": map[string]any{"phase": "Active"},
	}}
	want := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "a", "labels": map[string]any{"keep": "me"}},
		"data":     map[string]any{"x": "1"},
	}
	if diff := cmp.Diff(want, apply.StripNoise(u, false).Object); diff != "" {
		t.Errorf("StripNoise (-want +got):\n%s", diff)
	}
	if _, ok := apply.StripNoise(u, true).Object["status"]; !ok {
		t.Error("keepStatus dropped the status")
	}
	if _, ok := u.Object["status"]; !ok || u.GetUID() != "u" {
		t.Error("StripNoise changed its argument")
	}
	if apply.StripNoise(nil, false) != nil {
		t.Error("StripNoise(nil) is not nil")
	}
}
