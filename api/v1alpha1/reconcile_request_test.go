package v1alpha1

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestReconcileRequestPatchSetsTheAnnotation(t *testing.T) {
	at := ReconcileRequestValue(time.Date(2026, 12, 3, 20, 0, 0, 5, time.FixedZone("x", 3600)))
	if at != "2026-12-03T19:00:00.000000005Z" {
		t.Errorf("value = %s, want UTC with nanoseconds", at)
	}
	p := ReconcileRequestPatch(at)
	data, err := p.Data(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"annotations":{"flotilla.io/reconcile-requested-at":"2026-12-03T19:00:00.000000005Z"}}}`
	if string(data) != want || p.Type() != types.MergePatchType {
		t.Errorf("patch = %s (%s), want %s", data, p.Type(), want)
	}
}

func TestReconcileRequested(t *testing.T) {
	st := &Stack{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{ReconcileRequestAnnotation: "b"}}}
	for handled, want := range map[string]bool{"": true, "a": true, "b": false} {
		if got := ReconcileRequested(st, handled); got != want {
			t.Errorf("handled %q: ReconcileRequested = %v, want %v", handled, got, want)
		}
	}
	if ReconcileRequested(&Stack{}, "") {
		t.Error("an object without the annotation carries no request")
	}
}
