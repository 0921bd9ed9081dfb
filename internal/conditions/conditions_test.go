package conditions

import (
	"strings"
	"testing"
	"unicode/utf8"

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

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{name: "a message that fits is unchanged", in: "apply failed", max: 40, want: "apply failed"},
		{name: "exactly the limit is unchanged", in: "0123456789", max: 10, want: "0123456789"},
		{name: "a long message says how much was cut", in: strings.Repeat("x", 100), max: 40, want: strings.Repeat("x", 9) + " … (91 more bytes not shown)"},
		{name: "cut on a character boundary", in: strings.Repeat("é", 50), max: 40, want: strings.Repeat("é", 4) + " … (92 more bytes not shown)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Truncate(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("Truncate(%d bytes, %d) = %q, want %q", len(tc.in), tc.max, got, tc.want)
			}
			if len(got) > tc.max || !utf8.ValidString(got) {
				t.Errorf("Truncate(%d bytes, %d) = %d bytes (valid UTF-8: %t)", len(tc.in), tc.max, len(got), utf8.ValidString(got))
			}
		})
	}
}

// TestConditionMessagesFitTheAPI: a failure listing thousands of objects
// must not make the status patch fail (metav1.Condition's message is at
// most 32768 bytes), or Ready would stay stale.
func TestConditionMessagesFitTheAPI(t *testing.T) {
	st := &v1alpha1.Stack{}
	long := "dry-run failed: " + strings.Repeat("ConfigMap/ns/name: field is immutable; ", 3000)
	MarkStalled(st, v1alpha1.ReasonInvalidSpec, long)
	for _, c := range st.Status.Conditions {
		if len(c.Message) > MaxMessageLength {
			t.Errorf("condition %s has a %d-byte message, more than %d", c.Type, len(c.Message), MaxMessageLength)
		}
		if !strings.HasPrefix(c.Message, "dry-run failed: ConfigMap/ns/name") {
			t.Errorf("condition %s lost the start of its message: %.80q", c.Type, c.Message)
		}
	}
}
