package conditions

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// ignoreTime leaves LastTransitionTime, which SetStatusCondition stamps
// with the clock, out of comparisons.
var ignoreTime = cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime")

func TestMarksWriteTheWholeCondition(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(Object)
		want []metav1.Condition
	}{
		{"reconciling", func(o Object) { MarkReconciling(o, "fetching main") }, []metav1.Condition{
			cond(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, 4, v1alpha1.ReasonProgressing, "fetching main"),
			cond(v1alpha1.ReadyCondition, metav1.ConditionUnknown, 4, v1alpha1.ReasonProgressing, "fetching main"),
		}},
		{"waiting for a dependency", func(o Object) {
			MarkStalled(o, "InvalidSpec", "bad")
			MarkWaiting(o, "DependencyNotReady", "waiting for apps/db")
		}, []metav1.Condition{
			cond(v1alpha1.ReadyCondition, metav1.ConditionUnknown, 4, "DependencyNotReady", "waiting for apps/db"),
			cond(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, 4, "DependencyNotReady", "waiting for apps/db"),
		}},
		{"failed after reconciling", func(o Object) {
			MarkReconciling(o, "applying")
			MarkFailed(o, "ApplyFailed", "dry-run failed")
		}, []metav1.Condition{
			cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 4, "ApplyFailed", "dry-run failed"),
		}},
		{"stalled", func(o Object) { MarkStalled(o, "InvalidSpec", "spec.path is absolute") }, []metav1.Condition{
			cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 4, "InvalidSpec", "spec.path is absolute"),
			cond(v1alpha1.StalledCondition, metav1.ConditionTrue, 4, "InvalidSpec", "spec.path is absolute"),
		}},
		{"suspended clears Stalled and keeps a failure", func(o Object) {
			MarkStalled(o, "InvalidSpec", "bad")
			MarkSuspended(o)
		}, []metav1.Condition{
			cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 4, "InvalidSpec", "bad"),
		}},
		{"a drift watch failure leaves Ready", func(o Object) {
			MarkReady(o, "Succeeded", "applied main@sha1:abc")
			MarkDriftWatchFailed(o, "WatchFailed", "cannot watch ConfigMaps")
		}, []metav1.Condition{
			cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, 4, "Succeeded", "applied main@sha1:abc"),
			cond(v1alpha1.DriftWatchCondition, metav1.ConditionFalse, 4, "WatchFailed", "cannot watch ConfigMaps"),
		}},
		{"the drift watch cleared", func(o Object) {
			MarkDriftWatchFailed(o, "WatchFailed", "x")
			ClearDriftWatch(o)
		}, []metav1.Condition{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
			tc.mark(obj)
			if diff := cmp.Diff(tc.want, obj.Status.Conditions, ignoreTime, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkReconcilingRestampsAnUnknownReady(t *testing.T) {
	obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	MarkReady(obj, "Succeeded", "ok")
	obj.Generation = 2
	MarkReconciling(obj, "new spec")
	want := cond(v1alpha1.ReadyCondition, metav1.ConditionUnknown, 2, v1alpha1.ReasonProgressing, "new spec")
	if diff := cmp.Diff([]metav1.Condition{want}, obj.Status.Conditions[:1], ignoreTime); diff != "" {
		t.Errorf("Ready after a new generation (-want +got):\n%s", diff)
	}
	if got := ReadinessOf(obj); got.State != StateProgressing {
		t.Errorf("ReadinessOf = %v, want Progressing", got)
	}
}

func TestIsFalse(t *testing.T) {
	obj := &v1alpha1.Stack{}
	if IsFalse(obj, v1alpha1.ReadyCondition) {
		t.Error("IsFalse without conditions: want false")
	}
	MarkReconciling(obj, "x")
	if IsFalse(obj, v1alpha1.ReadyCondition) {
		t.Error("IsFalse of an Unknown Ready: want false")
	}
	MarkFailed(obj, "X", "y")
	if !IsFalse(obj, v1alpha1.ReadyCondition) || IsFalse(obj, v1alpha1.StalledCondition) {
		t.Error("after MarkFailed: want Ready False and Stalled absent")
	}
}
