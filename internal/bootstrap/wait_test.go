package bootstrap

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// rootStack is the root Stack at generation 2 with the given conditions,
// its status written for observed and rev applied.
func rootStack(observed int64, rev string, conds ...metav1.Condition) *v1alpha1.Stack {
	s := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: "flotilla-system", Generation: 2}}
	s.Status.ObservedGeneration, s.Status.LastAppliedRevision, s.Status.Conditions = observed, rev, conds
	return s
}

func condition(typ string, status metav1.ConditionStatus, gen int64, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, ObservedGeneration: gen, Reason: "R", Message: msg}
}

func TestReadinessOfTheRootStack(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	const atHead, older = "main@sha1:" + commit, "main@sha1:fedcba9876543210fedcba9876543210fedcba98"
	cases := []struct {
		name    string
		stack   *v1alpha1.Stack
		done    bool
		msg     string
		stalled bool
	}{
		{"no status yet", rootStack(0, ""), false, "no status yet (waiting for the agent)", false},
		{"ready at the head commit", rootStack(2, atHead, condition(v1alpha1.ReadyCondition, metav1.ConditionTrue, 2, "applied")),
			true, "Ready at " + atHead, false},
		{"ready at an older commit", rootStack(2, older, condition(v1alpha1.ReadyCondition, metav1.ConditionTrue, 2, "applied")),
			false, "Ready at " + older + ", waiting for commit 0123456789ab", false},
		{"ready for an older generation", rootStack(1, atHead, condition(v1alpha1.ReadyCondition, metav1.ConditionTrue, 1, "applied")),
			false, "the agent has not handled generation 2 yet", false},
		{"failed, which a retry may cure", rootStack(2, older, condition(v1alpha1.ReadyCondition, metav1.ConditionFalse, 2, "apply failed")),
			false, "apply failed", false},
		{"stalled", rootStack(2, older, condition(v1alpha1.ReadyCondition, metav1.ConditionFalse, 2, "bad path"),
			condition(v1alpha1.StalledCondition, metav1.ConditionTrue, 2, "bad path")), false, "bad path", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{result: Result{Commit: commit}}
			done, msg, err := r.readiness(tc.stack)
			if done != tc.done || msg != tc.msg || (err != nil) != tc.stalled {
				t.Errorf("readiness = %v, %q, %v; want %v, %q, stalled %v", done, msg, err, tc.done, tc.msg, tc.stalled)
			}
		})
	}
}
