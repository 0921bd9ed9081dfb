package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

func TestReconciled(t *testing.T) {
	const at = "2026-03-01T12:00:00.123456789Z"
	ready := func(status metav1.ConditionStatus, gen int64) *metav1.Condition {
		return &metav1.Condition{Type: v1alpha1.ReadyCondition, Status: status, Reason: "R", Message: "m", ObservedGeneration: gen}
	}
	cases := []struct {
		name     string
		st       objectState
		wantDone bool
		wantErr  bool
	}{
		{"request not handled yet", objectState{Generation: 1, ObservedGeneration: 1, LastHandled: "earlier", Ready: ready("True", 1)}, false, false},
		{"handled, Ready True", objectState{Generation: 1, ObservedGeneration: 1, LastHandled: at, Ready: ready("True", 1)}, true, false},
		{"handled, Ready False", objectState{Generation: 1, ObservedGeneration: 1, LastHandled: at, Ready: ready("False", 1)}, true, true},
		{"handled, Ready Unknown", objectState{Generation: 1, ObservedGeneration: 1, LastHandled: at, Ready: ready("Unknown", 1)}, false, false},
		{"handled, no Ready", objectState{Generation: 1, ObservedGeneration: 1, LastHandled: at}, false, false},
		{"status of an older generation", objectState{Generation: 2, ObservedGeneration: 1, LastHandled: at, Ready: ready("True", 1)}, false, false},
		{"Ready of an older generation", objectState{Generation: 2, ObservedGeneration: 2, LastHandled: at, Ready: ready("True", 1)}, false, false},
		{"handled, Stalled", objectState{Generation: 1, ObservedGeneration: 1, LastHandled: at, Ready: ready("False", 1),
			Stalled: &metav1.Condition{Type: v1alpha1.StalledCondition, Status: "True", Reason: "R", Message: "m", ObservedGeneration: 1}}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done, err := reconciled(tc.st, at, "Stack ns/apps")
			if done != tc.wantDone || (err != nil) != tc.wantErr {
				t.Errorf("reconciled = %t, %v; want %t, error %t", done, err, tc.wantDone, tc.wantErr)
			}
			var failed *ReconcileFailedError
			if tc.wantErr && (!errors.As(err, &failed) || err.Error() != "Stack ns/apps failed: R: m") {
				t.Errorf("error = %v, want a *ReconcileFailedError with reason and message", err)
			}
		})
	}
}

// TestWaitReconciledWithoutAnAgent waits on a Stack no agent watches: the
// wait ends at the deadline and says that the request was not handled.
func TestWaitReconciledWithoutAnAgent(t *testing.T) {
	controlplane.Require(t, env)
	ns := uniqueName("wait-noagent")
	createNamespace(t, env.Client, ns)
	st := fixtureStack(ns, "apps", 0, false, "")
	st.Status = v1alpha1.StackStatus{}
	if err := env.Client.Create(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	at, err := requestReconcile(t.Context(), env.Client, st)
	if err != nil {
		t.Fatal(err)
	}
	if st.Annotations[v1alpha1.ReconcileRequestAnnotation] != at {
		t.Fatalf("annotation = %q, want %q", st.Annotations[v1alpha1.ReconcileRequestAnnotation], at)
	}
	if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		t.Errorf("requested-at %q is not RFC 3339: %v", at, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	var out bytes.Buffer
	p := newProgress(&out, false)
	err = waitReconciled(ctx, env.Client, st, at, p)
	p.Stop()
	var waited *NotReconciledError
	if !errors.As(err, &waited) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "the agent has not handled the request") {
		t.Errorf("wait = %v, want a *NotReconciledError for the deadline, naming the unhandled request", err)
	}
	if want := "timed out waiting for Stack " + ns + "/apps to reconcile; "; err != nil && !strings.HasPrefix(err.Error(), want) {
		t.Errorf("wait = %v, want it to start with %q", err, want)
	}
	if want := "◎ waiting for Stack " + ns + "/apps to reconcile\n"; out.String() != want {
		t.Errorf("progress = %q, want %q", out.String(), want)
	}
}

// TestNotReconciledErrorSaysHowTheWaitEnded: a deadline reads "timed out",
// a cancel "stopped", and both stay a *NotReconciledError through wrapping,
// which is how reconcile's --timeout message knows not to wrap them again.
func TestNotReconciledErrorSaysHowTheWaitEnded(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a deadline", context.DeadlineExceeded, "timed out waiting for Stack ns/apps to reconcile; Ready is not decided yet: context deadline exceeded"},
		{"a cancel", context.Canceled, "stopped waiting for Stack ns/apps to reconcile; Ready is not decided yet: context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &NotReconciledError{Object: "Stack ns/apps", Why: "Ready is not decided yet", Err: tc.err})
			var waited *NotReconciledError
			if !errors.As(err, &waited) || !errors.Is(err, tc.err) {
				t.Fatalf("%v: want a *NotReconciledError wrapping %v", err, tc.err)
			}
			if waited.Error() != tc.want {
				t.Errorf("Error() = %q, want %q", waited.Error(), tc.want)
			}
		})
	}
}
