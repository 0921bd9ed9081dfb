package canary_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

func TestNewRequiresEverySeam(t *testing.T) {
	k := newCluster()
	if _, err := canary.New(k, k, nil, &hooks{}); !errors.Is(err, canary.ErrMissingSeam) {
		t.Fatalf("New without a metric checker: %v, want ErrMissingSeam", err)
	}
	if _, err := canary.New(k, k, &checker{}, nil); !errors.Is(err, canary.ErrMissingSeam) {
		t.Fatalf("New without hooks: %v, want ErrMissingSeam", err)
	}
}

func TestInitialization(t *testing.T) {
	r := newRig(t, weighted())
	r.k.primaryBroken = true
	if _, err := r.step(); err != nil {
		t.Fatal(err)
	}
	if r.c.Status.Phase != v1alpha1.CanaryPhaseInitializing || !r.k.primaryExists || r.k.routes != [2]int{100, 0} {
		t.Fatalf("first step: phase %s, primary %t, routes %v; want Initializing, a primary, 100/0", r.c.Status.Phase, r.k.primaryExists, r.k.routes)
	}
	if got := conditionStatus(r.c, v1alpha1.ReconcilingCondition); got != metav1.ConditionTrue {
		t.Errorf("Reconciling while initializing = %q, want True", got)
	}
	if r.k.targetReplicas == 0 {
		t.Error("the target was scaled to zero before the primary was ready")
	}
	r.k.primaryBroken = false
	r.initialized()
	st := r.c.Status
	if r.k.targetReplicas != 0 || st.LastAppliedSpec != "spec-v1" || st.LastPromotedSpec != "spec-v1" {
		t.Errorf("Initialized: target replicas %d, applied %q, promoted %q; want 0, spec-v1, spec-v1", r.k.targetReplicas, st.LastAppliedSpec, st.LastPromotedSpec)
	}
	if conditionStatus(r.c, v1alpha1.ReadyCondition) != metav1.ConditionTrue || conditionStatus(r.c, v1alpha1.ReconcilingCondition) != "" {
		t.Errorf("Initialized conditions: Ready %s, Reconciling %s", condition(r.c, v1alpha1.ReadyCondition), condition(r.c, v1alpha1.ReconcilingCondition))
	}
	if conditionStatus(r.c, v1alpha1.PromotedCondition) != metav1.ConditionTrue {
		t.Errorf("Promoted at Initialized = %s, want True", condition(r.c, v1alpha1.PromotedCondition))
	}
}

func TestInitializationPastDeadlineSaysSo(t *testing.T) {
	r := newRig(t, weighted())
	r.k.primaryBroken = true
	r.step()
	r.now = r.now.Add(11 * time.Minute)
	r.step()
	if r.c.Status.Phase != v1alpha1.CanaryPhaseInitializing {
		t.Fatalf("phase %s, want Initializing (there is nothing to roll back to)", r.c.Status.Phase)
	}
	if got := condition(r.c, v1alpha1.ReadyCondition); !strings.HasPrefix(got, "False/"+canary.ReasonPrimaryNotReady) {
		t.Errorf("Ready = %s, want False/%s", got, canary.ReasonPrimaryNotReady)
	}
}

// A good version goes through every weight and is promoted; the ledger and
// the events show every step.
func TestGoodReleasePromotesThroughEveryWeight(t *testing.T) {
	r := newRig(t, withHooks(weighted(),
		v1alpha1.CanaryWebhook{Name: "pre", Type: v1alpha1.PreRolloutHook, URL: "http://x"},
		v1alpha1.CanaryWebhook{Name: "post", Type: v1alpha1.PostRolloutHook, URL: "http://x"},
		v1alpha1.CanaryWebhook{Name: "load", URL: "http://x"}))
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	if diff := cmp.Diff([]int{10, 20, 30, 0}, r.k.weights); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	st := r.c.Status
	if r.k.primarySpec != "spec-v2" || st.LastPromotedSpec != "spec-v2" || r.k.targetReplicas != 0 || st.CanaryWeight != 0 {
		t.Errorf("after promotion: primary %q, promoted %q, target replicas %d, weight %d", r.k.primarySpec, st.LastPromotedSpec, r.k.targetReplicas, st.CanaryWeight)
	}
	if !slices.Contains(r.h.calls, "pre@Progressing") || !slices.Contains(r.h.calls, "post@Succeeded") {
		t.Errorf("webhooks called %v, want pre-rollout while Progressing and post-rollout at Succeeded", r.h.calls)
	}
	if r.m.calls != 3 {
		t.Errorf("metric checks run %d, want 3 (at weights 10, 20, 30)", r.m.calls)
	}
	phases := ledgerPhases(r.l.entries)
	for _, want := range []v1alpha1.CanaryPhase{v1alpha1.CanaryPhaseInitialized, v1alpha1.CanaryPhaseProgressing, v1alpha1.CanaryPhasePromoting, v1alpha1.CanaryPhaseFinalising, v1alpha1.CanaryPhaseSucceeded} {
		if !slices.Contains(phases, want) {
			t.Errorf("ledger phases %v lack %s", phases, want)
		}
	}
	if got := stepWeights(r.l.entries); !cmp.Equal(got, []int{10, 20, 30}) {
		t.Errorf("ledger steps at weights %v, want [10 20 30]", got)
	}
	if st.Ledger == nil || st.Ledger.Commit != "abc123" || st.Ledger.Pending != nil {
		t.Errorf("ledger status %+v", st.Ledger)
	}
	if conditionStatus(r.c, v1alpha1.PromotedCondition) != metav1.ConditionTrue || conditionStatus(r.c, v1alpha1.ReadyCondition) != metav1.ConditionTrue {
		t.Errorf("Succeeded conditions: %s; %s", condition(r.c, v1alpha1.ReadyCondition), condition(r.c, v1alpha1.PromotedCondition))
	}
	if len(r.q.images) != 0 {
		t.Errorf("a promoted version was quarantined: %v", r.q.images)
	}
}

func ledgerPhases(entries []canary.LedgerEntry) []v1alpha1.CanaryPhase {
	var out []v1alpha1.CanaryPhase
	for _, e := range entries {
		out = append(out, e.Phase)
	}
	return out
}

func stepWeights(entries []canary.LedgerEntry) []int {
	var out []int
	for _, e := range entries {
		if strings.HasPrefix(e.Message, "advance") {
			out = append(out, e.Weight)
		}
	}
	return out
}

// A bad version fails its checks threshold times and rolls back: all the
// traffic on the primary, the canary at zero, its image quarantined.
func TestBadReleaseRollsBackAfterThreshold(t *testing.T) {
	r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "post", Type: v1alpha1.PostRolloutHook, URL: "http://x"}))
	r.initialized()
	r.k.release("spec-bad", "app:2.0.1")
	r.m.fail = func(int) bool { return true }
	r.until(v1alpha1.CanaryPhaseFailed, 20)
	st := r.c.Status
	if r.k.routes != [2]int{100, 0} || r.k.targetReplicas != 0 || st.CanaryWeight != 0 {
		t.Errorf("after rollback: routes %v, target replicas %d, weight %d", r.k.routes, r.k.targetReplicas, st.CanaryWeight)
	}
	if st.FailedChecks != 2 || r.k.primarySpec != "spec-v1" {
		t.Errorf("failed checks %d (want 2), primary %q (want spec-v1)", st.FailedChecks, r.k.primarySpec)
	}
	if len(st.LastMetrics) != 1 || st.LastMetrics[0].Passed {
		t.Errorf("last metrics %+v, want one failed", st.LastMetrics)
	}
	if got := condition(r.c, v1alpha1.ReadyCondition); !strings.HasPrefix(got, "False/Failed: rolled back: 2 failed checks") {
		t.Errorf("Ready = %s", got)
	}
	if conditionStatus(r.c, v1alpha1.StalledCondition) != "" || conditionStatus(r.c, v1alpha1.PromotedCondition) != metav1.ConditionFalse {
		t.Errorf("a rollback is not Stalled and not Promoted: %s; %s", condition(r.c, v1alpha1.StalledCondition), condition(r.c, v1alpha1.PromotedCondition))
	}
	if !cmp.Equal(r.q.images, []string{"app:2.0.1"}) {
		t.Errorf("quarantined %v, want [app:2.0.1]", r.q.images)
	}
	if !slices.Contains(r.h.calls, "post@Failed") {
		t.Errorf("post-rollout not called after the rollback: %v", r.h.calls)
	}
	last := r.l.entries[len(r.l.entries)-1]
	if last.Phase != v1alpha1.CanaryPhaseFailed || len(last.Metrics) != 1 {
		t.Errorf("last ledger entry %+v, want Failed with the metric values", last)
	}
	// The failed spec is not analysed again; the next release is.
	r.step()
	if r.c.Status.Phase != v1alpha1.CanaryPhaseFailed {
		t.Fatalf("the same failed spec started again: %s", r.c.Status.Phase)
	}
	r.k.release("spec-v3", "app:2.0.2")
	r.m.fail = nil
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
}

func TestFailedCheckHoldsWeightBelowThreshold(t *testing.T) {
	c := weighted()
	c.Spec.Analysis.Threshold = 3
	r := newRig(t, c)
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.m.fail = func(n int) bool { return n == 1 }
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	if diff := cmp.Diff([]int{10, 20, 30, 0}, r.k.weights); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	if r.c.Status.FailedChecks != 1 {
		t.Errorf("failed checks %d, want 1", r.c.Status.FailedChecks)
	}
}

func TestFreezeHoldsTheWeightUntilAPersonDecides(t *testing.T) {
	for _, tc := range []struct {
		name       string
		annotation string
		want       v1alpha1.CanaryPhase
	}{
		{"promote", v1alpha1.CanaryPromoteAnnotation, v1alpha1.CanaryPhaseSucceeded},
		{"abort", v1alpha1.CanaryAbortAnnotation, v1alpha1.CanaryPhaseFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := weighted()
			c.Spec.Analysis.OnFailure = v1alpha1.OnFailureFreeze
			r := newRig(t, c)
			r.initialized()
			r.k.release("spec-v2", "app:2.0.0")
			r.m.fail = func(n int) bool { return n >= 2 }
			r.until(v1alpha1.CanaryPhaseFrozen, 20)
			held := r.c.Status.CanaryWeight
			if held != 20 || r.k.routes != [2]int{80, 20} {
				t.Fatalf("frozen at weight %d, routes %v; want 20 and 80/20", held, r.k.routes)
			}
			for range 3 {
				r.step()
			}
			if r.c.Status.Phase != v1alpha1.CanaryPhaseFrozen || r.k.routes != [2]int{80, 20} {
				t.Fatalf("frozen canary moved: %s, %v", r.c.Status.Phase, r.k.routes)
			}
			if got := conditionStatus(r.c, v1alpha1.ReadyCondition); got != metav1.ConditionFalse {
				t.Errorf("Ready while frozen = %s", got)
			}
			r.c.Annotations = map[string]string{tc.annotation: "2026-12-03T12:30:00Z"}
			r.until(tc.want, 10)
			if r.k.routes != [2]int{100, 0} {
				t.Errorf("routes after %s: %v, want 100/0", tc.name, r.k.routes)
			}
		})
	}
}

func TestBlueGreenIteratesThenPromotes(t *testing.T) {
	r := newRig(t, blueGreen())
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhasePromoting, 20)
	if r.c.Status.Iterations != 3 || r.m.calls != 3 {
		t.Errorf("iterations %d, checks %d; want 3 and 3", r.c.Status.Iterations, r.m.calls)
	}
	if len(r.k.weights) != 0 {
		t.Errorf("blue/green moved weights: %v", r.k.weights)
	}
	r.until(v1alpha1.CanaryPhaseSucceeded, 5)
	if r.k.primarySpec != "spec-v2" {
		t.Errorf("primary %q, want spec-v2", r.k.primarySpec)
	}
}

func TestGatesHoldTheRollout(t *testing.T) {
	refused := errors.New("HTTP 403")
	t.Run("confirm-rollout", func(t *testing.T) {
		r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmRolloutHook, URL: "http://x"}))
		r.initialized()
		r.h.refuse = map[string]error{"gate": refused}
		r.k.release("spec-v2", "app:2.0.0")
		for range 3 {
			r.step()
		}
		if r.c.Status.Phase != v1alpha1.CanaryPhaseWaiting || r.k.targetReplicas != 0 {
			t.Fatalf("refused rollout: phase %s, target replicas %d; want Waiting, 0", r.c.Status.Phase, r.k.targetReplicas)
		}
		if got := condition(r.c, v1alpha1.ReadyCondition); !strings.Contains(got, "HTTP 403") {
			t.Errorf("Ready = %s, want the refusal", got)
		}
		r.h.refuse = nil
		r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	})
	t.Run("confirm-traffic-increase", func(t *testing.T) {
		r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "more", Type: v1alpha1.ConfirmTrafficIncreaseHook, URL: "http://x"}))
		r.initialized()
		r.k.release("spec-v2", "app:2.0.0")
		r.until(v1alpha1.CanaryPhaseProgressing, 3)
		r.step() // weight 10
		r.h.refuse = map[string]error{"more": refused}
		for range 3 {
			r.step()
		}
		if r.c.Status.CanaryWeight != 10 {
			t.Fatalf("weight %d with the increase refused, want 10", r.c.Status.CanaryWeight)
		}
		r.h.refuse = nil
		r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	})
	t.Run("confirm-promotion", func(t *testing.T) {
		r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "ship", Type: v1alpha1.ConfirmPromotionHook, URL: "http://x"}))
		r.h.refuse = map[string]error{"ship": refused}
		r.initialized()
		r.k.release("spec-v2", "app:2.0.0")
		r.until(v1alpha1.CanaryPhaseWaitingPromotion, 20)
		for range 3 {
			r.step()
		}
		if r.c.Status.Phase != v1alpha1.CanaryPhaseWaitingPromotion || r.k.primarySpec != "spec-v1" {
			t.Fatalf("refused promotion: %s, primary %s", r.c.Status.Phase, r.k.primarySpec)
		}
		r.h.refuse = nil
		r.until(v1alpha1.CanaryPhaseSucceeded, 5)
	})
}

func TestRollbackWebhookRollsBack(t *testing.T) {
	r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "red-button", Type: v1alpha1.RollbackHook, URL: "http://x"}))
	r.h.refuse = map[string]error{"red-button": errors.New("HTTP 404")}
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
	r.step()
	r.step()
	if r.c.Status.Phase != v1alpha1.CanaryPhaseProgressing {
		t.Fatalf("a rollback webhook answering 404 rolled back: %s", r.c.Status.Phase)
	}
	r.h.refuse = nil
	r.until(v1alpha1.CanaryPhaseFailed, 3)
	if got := condition(r.c, v1alpha1.ReadyCondition); !strings.Contains(got, "red-button") {
		t.Errorf("Ready = %s, want the webhook named", got)
	}
}

func TestFailingRolloutHookIsAFailedCheck(t *testing.T) {
	r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "load", URL: "http://x"}))
	r.h.refuse = map[string]error{"load": errors.New("HTTP 500")}
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseFailed, 20)
	if r.m.calls != 0 {
		t.Errorf("metrics checked %d times after a failed rollout hook, want 0", r.m.calls)
	}
}

func TestNewRevisionRestartsTheAnalysis(t *testing.T) {
	for _, phase := range []v1alpha1.CanaryPhase{v1alpha1.CanaryPhaseProgressing, v1alpha1.CanaryPhaseWaitingPromotion, v1alpha1.CanaryPhaseFrozen} {
		t.Run(string(phase), func(t *testing.T) {
			c := withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "ship", Type: v1alpha1.ConfirmPromotionHook, URL: "http://x"})
			c.Spec.Analysis.OnFailure = v1alpha1.OnFailureFreeze
			r := newRig(t, c)
			r.initialized()
			r.k.release("spec-v2", "app:2.0.0")
			switch phase {
			case v1alpha1.CanaryPhaseWaitingPromotion:
				r.h.refuse = map[string]error{"ship": errors.New("no")}
				r.until(phase, 20)
			case v1alpha1.CanaryPhaseFrozen:
				r.m.fail = func(int) bool { return true }
				r.until(phase, 20)
			default:
				r.until(phase, 3)
				r.step()
				r.step()
			}
			if r.c.Status.CanaryWeight == 0 {
				t.Fatal("no weight before the new revision")
			}
			r.h.refuse, r.m.fail = nil, nil
			r.k.release("spec-v3", "app:3.0.0")
			r.step()
			st := r.c.Status
			if st.Phase != v1alpha1.CanaryPhaseProgressing || st.CanaryWeight != 0 || st.FailedChecks != 0 || st.Iterations != 0 || st.LastAppliedSpec != "spec-v3" {
				t.Fatalf("after a new revision: %s weight %d failed %d iterations %d spec %s", st.Phase, st.CanaryWeight, st.FailedChecks, st.Iterations, st.LastAppliedSpec)
			}
			if r.k.routes != [2]int{100, 0} {
				t.Errorf("routes %v after restart, want 100/0", r.k.routes)
			}
			r.until(v1alpha1.CanaryPhaseSucceeded, 20)
			if r.k.primarySpec != "spec-v3" {
				t.Errorf("primary %q, want spec-v3", r.k.primarySpec)
			}
		})
	}
}

func TestCanaryNotReadyInTimeRollsBack(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.targetBroken = true
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
	for range 5 {
		r.step()
	}
	if r.c.Status.Phase != v1alpha1.CanaryPhaseProgressing {
		t.Fatalf("phase %s before the deadline", r.c.Status.Phase)
	}
	r.now = r.now.Add(10 * time.Minute)
	r.step()
	if got := condition(r.c, v1alpha1.ReadyCondition); r.c.Status.Phase != v1alpha1.CanaryPhaseFailed || !strings.Contains(got, "not ready after progressDeadlineSeconds") {
		t.Errorf("phase %s, Ready %s", r.c.Status.Phase, got)
	}
}

func TestPrimaryNotReadyAfterPromotionFails(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhasePromoting, 20)
	r.k.primaryBroken = true
	r.step()
	r.step()
	if r.c.Status.Phase != v1alpha1.CanaryPhasePromoting {
		t.Fatalf("phase %s, want Promoting while the primary rolls out", r.c.Status.Phase)
	}
	r.now = r.now.Add(11 * time.Minute)
	r.step()
	if r.c.Status.Phase != v1alpha1.CanaryPhaseFailed {
		t.Errorf("phase %s, want Failed", r.c.Status.Phase)
	}
}

func TestNewRevisionDuringPromotionIsNotPromoted(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhasePromoting, 20)
	r.k.release("spec-v3", "app:3.0.0")
	r.step()
	if r.k.primarySpec == "spec-v3" || r.c.Status.Phase != v1alpha1.CanaryPhaseProgressing {
		t.Fatalf("unjudged spec: primary %s, phase %s", r.k.primarySpec, r.c.Status.Phase)
	}
}

func TestSkipAnalysisPromotesAtOnce(t *testing.T) {
	c := weighted()
	c.Spec.SkipAnalysis = true
	r := newRig(t, c)
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseSucceeded, 5)
	if r.m.calls != 0 || len(r.k.weights) != 0 || r.k.primarySpec != "spec-v2" {
		t.Errorf("skipAnalysis: %d checks, weights %v, primary %s", r.m.calls, r.k.weights, r.k.primarySpec)
	}
}

func TestRequestsOutsideAnAnalysisAreEchoedAndIgnored(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.c.Annotations = map[string]string{v1alpha1.CanaryPromoteAnnotation: "a", v1alpha1.CanaryAbortAnnotation: "b"}
	res, _ := r.step()
	st := r.c.Status
	if st.Phase != v1alpha1.CanaryPhaseInitialized || st.HandledPromote != "a" || st.HandledAbort != "b" {
		t.Fatalf("phase %s, handled %q/%q", st.Phase, st.HandledPromote, st.HandledAbort)
	}
	if len(res.Events) != 2 || !strings.Contains(res.Events[0].Message, "ignored") {
		t.Errorf("events %+v, want two saying ignored", res.Events)
	}
	// Handled once: the same values do nothing when the next release runs.
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
}

func TestBackAtThePromotedSpecNeedsNoAnalysis(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-bad", "app:2.0.1")
	r.m.fail = func(int) bool { return true }
	r.until(v1alpha1.CanaryPhaseFailed, 20)
	r.k.release("spec-v1", "app:1.0.0") // Git went back
	r.step()
	if r.c.Status.Phase != v1alpha1.CanaryPhaseFailed || r.c.Status.LastAppliedSpec != "spec-v1" || r.k.targetReplicas != 0 {
		t.Errorf("phase %s, applied %s, replicas %d", r.c.Status.Phase, r.c.Status.LastAppliedSpec, r.k.targetReplicas)
	}
}

func TestRouterErrorKeepsThePhaseAndSaysWhy(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.k.routerErr = errors.New("httproutes is forbidden")
	if _, err := r.step(); err == nil {
		t.Fatal("no error from a failing router")
	}
	if r.c.Status.Phase != v1alpha1.CanaryPhaseInitialized {
		t.Errorf("phase %s after a failed step, want Initialized", r.c.Status.Phase)
	}
	if got := condition(r.c, v1alpha1.ReadyCondition); !strings.HasPrefix(got, "False/"+canary.ReasonStepFailed) || !strings.Contains(got, "forbidden") {
		t.Errorf("Ready = %s", got)
	}
	r.k.routerErr = nil
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
}

func TestLedgerEntriesWaitInStatusUntilWritten(t *testing.T) {
	r := newRig(t, weighted())
	r.l.err = errors.New("push refused")
	r.initialized()
	ls := r.c.Status.Ledger
	if ls == nil || len(ls.Pending) < 2 || ls.LastError != "push refused" {
		t.Fatalf("ledger status %+v, want pending entries and the error", ls)
	}
	r.l.err = nil
	r.k.release("spec-v2", "app:2.0.0")
	r.step()
	if ls := r.c.Status.Ledger; len(ls.Pending) != 0 || ls.LastError != "" {
		t.Fatalf("ledger status after a good write %+v", ls)
	}
	if got := ledgerPhases(r.l.entries); got[0] != v1alpha1.CanaryPhaseInitializing {
		t.Errorf("first entry written %s, want Initializing (the pending ones first)", got[0])
	}
}

func TestNoLedgerWithoutSpecLedger(t *testing.T) {
	c := weighted()
	c.Spec.Ledger = nil
	r := newRig(t, c)
	r.initialized()
	if len(r.l.entries) != 0 || r.c.Status.Ledger != nil {
		t.Errorf("notes written without spec.ledger: %d", len(r.l.entries))
	}
}

// An agent restarted mid-analysis resumes from the status alone: the
// weights go on from where they were, and nothing is done twice.
func TestRestartResumesFromStatus(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
	r.step()
	r.step()
	if r.c.Status.CanaryWeight != 20 {
		t.Fatalf("weight %d before the restart, want 20", r.c.Status.CanaryWeight)
	}
	// A new agent: a new Engine, new seams, the Canary as read from the API.
	k := *r.k
	k.weights = nil
	restarted := newRig(t, r.c.DeepCopy())
	restarted.k, restarted.now = &k, r.now
	restarted.until(v1alpha1.CanaryPhaseSucceeded, 20)
	if diff := cmp.Diff([]int{30, 0}, k.weights); diff != "" {
		t.Errorf("weights after the restart (-want +got):\n%s", diff)
	}
	if k.primaryCopies != 1 {
		t.Errorf("primary written %d times, want 1", k.primaryCopies)
	}
}

// A step before the interval has passed does nothing (a Deployment event
// may wake the controller at any time).
func TestStepsWaitForTheInterval(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
	r.step()
	w := r.c.Status.CanaryWeight
	e, _ := canary.New(r.k, r.k, r.m, r.h)
	res, err := e.Step(context.Background(), r.c, r.k.observe(r.now.Add(-50*time.Second)))
	if err != nil || r.c.Status.CanaryWeight != w {
		t.Fatalf("early step moved weight %d -> %d (%v)", w, r.c.Status.CanaryWeight, err)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > time.Minute {
		t.Errorf("requeue after %s, want the rest of the interval", res.RequeueAfter)
	}
}
