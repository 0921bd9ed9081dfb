package canary_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// A step that fails on a seam changes nothing in the status but the
// conditions: the next step tries the same step again, and does not count
// the same failed check twice.
func TestAFailedRollbackIsTriedAgainWithoutCountingTwice(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-bad", "app:2.0.1")
	r.m.fail = func(int) bool { return true }
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
	r.mustStep() // weight 10
	r.mustStep() // check failed (1/2)
	before := r.c.Status.DeepCopy()
	r.k.scaleDownErr = errors.New("deployments.apps \"podinfo\" is forbidden")
	res, err := r.step() // check failed (2/2): the rollback cannot scale the canary down
	if err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("Step = %v, want the scaling error", err)
	}
	if st := r.c.Status; st.Phase != before.Phase || st.FailedChecks != before.FailedChecks || st.CanaryWeight != before.CanaryWeight || !st.LastStepAt.Equal(before.LastStepAt) {
		t.Errorf("after a failed step: phase %s, failed %d, weight %d, last step %v; want the status before it (%s, %d, %d, %v)",
			st.Phase, st.FailedChecks, st.CanaryWeight, st.LastStepAt, before.Phase, before.FailedChecks, before.CanaryWeight, before.LastStepAt)
	}
	if len(res.Events) != 0 {
		t.Errorf("a failed step reported events %v", reasons(res.Events))
	}
	if got := condition(r.c, v1alpha1.ReadyCondition); !strings.HasPrefix(got, "False/"+canary.ReasonStepFailed) || !strings.Contains(got, "forbidden") {
		t.Errorf("Ready = %s, want the step's failure", got)
	}
	checks := r.m.calls
	r.k.scaleDownErr = nil
	r.mustStep()
	st := r.c.Status
	if st.Phase != v1alpha1.CanaryPhaseFailed || st.FailedChecks != 2 || r.m.calls != checks+1 {
		t.Errorf("after the retry: phase %s, %d failed checks, %d more metric checks; want Failed, 2, 1", st.Phase, st.FailedChecks, r.m.calls-checks)
	}
	if got := condition(r.c, v1alpha1.ReadyCondition); !strings.Contains(got, "rolled back: 2 failed checks reached the threshold") {
		t.Errorf("Ready = %s", got)
	}
}

func TestARequestBeforeTheFirstStepIsIgnoredAndInitializationGoesOn(t *testing.T) {
	c := weighted()
	c.Annotations = map[string]string{v1alpha1.CanaryAbortAnnotation: "early"}
	r := newRig(t, c)
	res := r.mustStep()
	ignored := eventOf(t, res.Events, "AbortIgnored")
	if want := "abort request early ignored: no analysis is running (phase none)"; ignored.Message != want {
		t.Errorf("AbortIgnored = %q, want %q", ignored.Message, want)
	}
	if r.c.Status.Phase != v1alpha1.CanaryPhaseInitializing || r.c.Status.HandledAbort != "early" {
		t.Errorf("phase %s, handled %q; want Initializing and early", r.c.Status.Phase, r.c.Status.HandledAbort)
	}
}

func TestProgressDeadlineSecondsIsHonoured(t *testing.T) {
	c := weighted()
	c.Spec.ProgressDeadlineSeconds = ptr.To[int32](90)
	if got := canary.ProgressDeadline(c); got != 90*time.Second {
		t.Fatalf("ProgressDeadline = %s, want 90s", got)
	}
	r := newRig(t, c)
	r.initialized()
	r.k.targetBroken = true
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
	r.now = r.c.Status.PhaseStartedAt.Add(80 * time.Second)
	r.mustStep()
	if r.c.Status.Phase != v1alpha1.CanaryPhaseProgressing {
		t.Fatalf("phase %s 80s into a 90s deadline", r.c.Status.Phase)
	}
	r.now = r.c.Status.PhaseStartedAt.Add(91 * time.Second)
	r.mustStep()
	if got := condition(r.c, v1alpha1.ReadyCondition); r.c.Status.Phase != v1alpha1.CanaryPhaseFailed || !strings.Contains(got, "not ready after progressDeadlineSeconds (1m30s)") {
		t.Errorf("91s in: phase %s, Ready %s", r.c.Status.Phase, got)
	}
	c.Spec.ProgressDeadlineSeconds = ptr.To[int32](0)
	if got := canary.ProgressDeadline(c); got != canary.DefaultProgressDeadline {
		t.Errorf("ProgressDeadline of 0 = %s, want the default", got)
	}
}

func TestANewRevisionWhileWaitingForApprovalWaitsWithTheNewImages(t *testing.T) {
	r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmRolloutHook, URL: "http://x"}))
	r.h.refuse = map[string]error{"gate": errors.New("HTTP 403")}
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseWaiting, 3)
	r.k.release("spec-v3", "app:3.0.0")
	res := r.mustStep()
	if got := reasons(res.Events); len(got) != 2 || got[0] != "Restarted" || got[1] != string(v1alpha1.CanaryPhaseWaiting) {
		t.Errorf("events %v, want Restarted then Waiting", got)
	}
	st := r.c.Status
	if st.Phase != v1alpha1.CanaryPhaseWaiting || st.LastAppliedSpec != "spec-v3" || st.CanaryImages[0] != "app:3.0.0" || r.k.targetReplicas != 0 {
		t.Errorf("phase %s, judged %s, images %v, target replicas %d; want Waiting on spec-v3 with the target at zero", st.Phase, st.LastAppliedSpec, st.CanaryImages, r.k.targetReplicas)
	}
}
