package conditions

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func status(obj Object, typ string) metav1.ConditionStatus {
	c := meta.FindStatusCondition(obj.GetConditions(), typ)
	if c == nil {
		return "absent"
	}
	return c.Status
}

func TestTransitions(t *testing.T) {
	cases := []struct {
		name                        string
		mark                        func(Object)
		ready, reconciling, stalled metav1.ConditionStatus
		isReady                     bool
	}{
		{"reconciling from nothing makes Ready unknown", func(o Object) { MarkReconciling(o, "fetching") },
			metav1.ConditionUnknown, metav1.ConditionTrue, "absent", false},
		{"ready clears reconciling and stalled", func(o Object) { MarkStalled(o, "X", "x"); MarkReady(o, "Succeeded", "ok") },
			metav1.ConditionTrue, "absent", "absent", true},
		{"failure keeps Ready False through a new attempt", func(o Object) { MarkFailed(o, "Auth", "no"); MarkReconciling(o, "again") },
			metav1.ConditionFalse, metav1.ConditionTrue, "absent", false},
		{"stalled sets Ready False and Stalled True", func(o Object) { MarkReconciling(o, "x"); MarkStalled(o, "InvalidSpec", "bad") },
			metav1.ConditionFalse, "absent", metav1.ConditionTrue, false},
		{"suspended keeps Ready", func(o Object) { MarkReady(o, "Succeeded", "ok"); MarkSuspended(o) },
			metav1.ConditionTrue, "absent", "absent", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			tc.mark(obj)
			if got := status(obj, v1alpha1.ReadyCondition); got != tc.ready {
				t.Errorf("Ready = %s, want %s", got, tc.ready)
			}
			if got := status(obj, v1alpha1.ReconcilingCondition); got != tc.reconciling {
				t.Errorf("Reconciling = %s, want %s", got, tc.reconciling)
			}
			if got := status(obj, v1alpha1.StalledCondition); got != tc.stalled {
				t.Errorf("Stalled = %s, want %s", got, tc.stalled)
			}
			if got := IsReady(obj); got != tc.isReady {
				t.Errorf("IsReady = %v, want %v", got, tc.isReady)
			}
		})
	}
}

func TestIsReadyNeedsCurrentGeneration(t *testing.T) {
	obj := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	MarkReady(obj, "Succeeded", "ok")
	obj.Generation = 2
	if IsReady(obj) {
		t.Fatal("Ready for generation 1 must not count for generation 2")
	}
}
