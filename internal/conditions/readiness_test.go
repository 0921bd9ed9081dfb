package conditions

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func cond(typ string, status metav1.ConditionStatus, gen int64, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, ObservedGeneration: gen, Reason: reason, Message: msg}
}

func TestReadinessOf(t *testing.T) {
	cases := []struct {
		name  string
		conds []metav1.Condition
		want  Readiness
	}{{
		name: "no conditions yet is progressing",
		want: Readiness{State: StateProgressing, Message: "no status yet (waiting for the agent)"},
	}, {
		name:  "ready true for the current generation is ready",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, 2, "Succeeded", "applied main@sha1:1")},
		want:  Readiness{State: StateReady, Reason: "Succeeded", Message: "applied main@sha1:1"},
	}, {
		name:  "ready true for an older generation is progressing",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, 1, "Succeeded", "applied")},
		want:  Readiness{State: StateProgressing, Reason: v1alpha1.ReasonProgressing, Message: "the agent has not handled generation 2 yet"},
	}, {
		name:  "ready false for the current generation is failed",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 2, "ApplyFailed", "apply ConfigMap a/b: denied")},
		want:  Readiness{State: StateFailed, Reason: "ApplyFailed", Message: "apply ConfigMap a/b: denied"},
	}, {
		name: "ready false kept through a new attempt stays failed",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 2, "ApplyFailed", "denied"),
			cond(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, 2, "Progressing", "again")},
		want: Readiness{State: StateFailed, Reason: "ApplyFailed", Message: "denied"},
	}, {
		name: "ready false for an older generation is progressing",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 1, "ApplyFailed", "denied"),
			cond(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, 2, "Progressing", "again")},
		want: Readiness{State: StateProgressing, Reason: v1alpha1.ReasonProgressing, Message: "the agent has not handled generation 2 yet"},
	}, {
		name:  "ready unknown while reconciling is progressing with its reason",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionUnknown, 2, "DependencyNotReady", "waiting for dependency")},
		want:  Readiness{State: StateProgressing, Reason: "DependencyNotReady", Message: "waiting for dependency"},
	}, {
		name: "stalled for the current generation is stalled",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 2, "InvalidSpec", "bad path"),
			cond(v1alpha1.StalledCondition, metav1.ConditionTrue, 2, "InvalidSpec", "bad path")},
		want: Readiness{State: StateStalled, Reason: "InvalidSpec", Message: "bad path"},
	}, {
		name: "stalled for an older generation is progressing",
		conds: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, 1, "InvalidSpec", "bad path"),
			cond(v1alpha1.StalledCondition, metav1.ConditionTrue, 1, "InvalidSpec", "bad path")},
		want: Readiness{State: StateProgressing, Reason: v1alpha1.ReasonProgressing, Message: "the agent has not handled generation 2 yet"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			obj.Status.Conditions = tc.conds
			got := ReadinessOf(obj)
			if got != tc.want {
				t.Errorf("ReadinessOf = %+v, want %+v", got, tc.want)
			}
			if got.Done() != (tc.want.State != StateProgressing) {
				t.Errorf("Done() = %v for %s", got.Done(), got.State)
			}
			if IsReady(obj) != (tc.want.State == StateReady) {
				t.Errorf("IsReady = %v for %s", IsReady(obj), got.State)
			}
		})
	}
}

func TestReadinessStringNamesStateReasonAndMessage(t *testing.T) {
	r := Readiness{State: StateFailed, Reason: "ApplyFailed", Message: "denied"}
	if got, want := r.String(), "Failed (ApplyFailed): denied"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	r = Readiness{State: StateProgressing, Message: "no status yet"}
	if got, want := r.String(), "Progressing: no status yet"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
