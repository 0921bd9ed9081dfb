package v1alpha1_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// TestLongConditionMessagesAreStored: the API server refuses a condition
// message over 32768 bytes, which would leave Ready stale; messages set
// through package conditions are cut to fit and the status is stored.
func TestLongConditionMessagesAreStored(t *testing.T) {
	controlplane.Require(t, env)
	ctx := context.Background()
	ns := newNamespace(t, "status-")
	st := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "long-message"},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Interval:  metav1.Duration{Duration: time.Minute},
		},
	}
	if err := env.Client.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	long := "dry-run failed: " + strings.Repeat("ConfigMap/ns/name: field is immutable; ", 3000)

	raw := st.DeepCopy()
	raw.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonInvalidSpec, Message: long, LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(ctx, raw); err == nil {
		t.Fatalf("the API server stored a %d-byte condition message; this test assumes it refuses one over %d", len(long), conditions.MaxMessageLength)
	}

	conditions.MarkStalled(st, v1alpha1.ReasonInvalidSpec, long)
	if err := env.Client.Status().Update(ctx, st); err != nil {
		t.Fatalf("storing a status set through package conditions: %v", err)
	}
}
