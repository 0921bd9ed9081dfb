package apply_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// TestApplyTakesOverKubectlClientSideApply: an object first created with
// `kubectl apply` (client-side) holds fields owned by kubectl's manager.
// After Flotilla's first apply those fields are Flotilla's, so a key that
// Git no longer has is removed instead of lingering.
func TestApplyTakesOverKubectlClientSideApply(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	ctx := context.Background()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.Namespace, Name: "legacy"},
		Data:       map[string]string{"kept": "1", "dropped": "2"},
	}
	if err := f.live.Create(ctx, cm, client.FieldOwner("kubectl-client-side-apply")); err != nil {
		t.Fatal(err)
	}
	desired := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": f.Namespace, "name": "legacy"},
		"data":     map[string]any{"kept": "1"},
	}}
	cs := mustApply(t, f.manager("legacy"), []*unstructured.Unstructured{desired})
	if got := cs.Count(apply.Configured); got != 1 {
		t.Fatalf("changes = %+v, want the ConfigMap configured", cs.Changes)
	}
	live := &corev1.ConfigMap{}
	if err := f.live.Get(ctx, client.ObjectKeyFromObject(cm), live); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Data["dropped"]; ok || live.Data["kept"] != "1" {
		t.Errorf("data = %v: the key Git dropped must be gone", live.Data)
	}
	for _, mf := range live.ManagedFields {
		if mf.Manager == "kubectl-client-side-apply" {
			t.Errorf("kubectl's manager still owns fields: %+v", mf)
		}
	}
	cs = mustApply(t, f.manager("legacy"), []*unstructured.Unstructured{desired})
	if cs.Count(apply.Unchanged) != 1 {
		t.Errorf("a second apply must change nothing: %+v", cs.Changes)
	}
}
