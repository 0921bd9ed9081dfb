package stackspec

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func stackAt(gen, observed, readyGen int64, ready metav1.ConditionStatus, applied string) *v1alpha1.Stack {
	s := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: gen}}
	s.Status.ObservedGeneration, s.Status.LastAppliedRevision = observed, applied
	if ready != "" {
		s.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: ready,
			ObservedGeneration: readyGen, Reason: "Succeeded", Message: "Applied revision " + applied}}
	}
	return s
}

func TestReadyAt(t *testing.T) {
	const rev, older = "main@sha1:2", "main@sha1:1"
	cases := []struct {
		name     string
		stack    *v1alpha1.Stack
		revision string
		want     bool
	}{
		{"ready at the revision", stackAt(3, 3, 3, metav1.ConditionTrue, rev), rev, true},
		{"ready at any revision", stackAt(3, 3, 3, metav1.ConditionTrue, rev), "", true},
		{"ready at an older revision", stackAt(3, 3, 3, metav1.ConditionTrue, older), rev, false},
		{"ready with nothing applied is not ready at any revision", stackAt(3, 3, 3, metav1.ConditionTrue, ""), "", false},
		{"status written for an older generation", stackAt(3, 2, 3, metav1.ConditionTrue, rev), rev, false},
		{"ready condition of an older generation", stackAt(3, 3, 2, metav1.ConditionTrue, rev), rev, false},
		{"ready false at the revision", stackAt(3, 3, 3, metav1.ConditionFalse, rev), rev, false},
		{"ready unknown", stackAt(3, 3, 3, metav1.ConditionUnknown, rev), rev, false},
		{"no ready condition", stackAt(3, 3, 3, "", rev), rev, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReadyAt(tc.stack, tc.revision); got != tc.want {
				t.Errorf("ReadyAt(%q) = %v, want %v (%s)", tc.revision, got, tc.want, Describe(tc.stack))
			}
		})
	}
}

func TestDescribeNamesReadinessAndLastApplied(t *testing.T) {
	s := stackAt(3, 3, 3, metav1.ConditionFalse, "main@sha1:1")
	s.Status.Conditions[0].Reason, s.Status.Conditions[0].Message = "ApplyFailed", "denied"
	if got, want := Describe(s), "Failed (ApplyFailed): denied; last applied main@sha1:1"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}
