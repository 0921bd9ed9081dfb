package canary_test

import (
	"context"
	"encoding/json"
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

// progressing steps a Canary to Initialized, releases spec-v2 and steps to
// Progressing.
func (r *rig) progressing() {
	r.t.Helper()
	r.initialized()
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseProgressing, 3)
}

// mustStep runs one step, failing the test on an error.
func (r *rig) mustStep() canary.Result {
	r.t.Helper()
	res, err := r.step()
	if err != nil {
		r.t.Fatalf("step in phase %s: %v", r.c.Status.Phase, err)
	}
	return res
}

// reasons lists the reasons of events, in order.
func reasons(events []canary.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

// eventOf returns the first event of reason, failing the test without one.
func eventOf(t *testing.T, events []canary.Event, reason string) canary.Event {
	t.Helper()
	for _, e := range events {
		if e.Reason == reason {
			return e
		}
	}
	t.Fatalf("no %s event among %v", reason, reasons(events))
	return canary.Event{}
}

func TestFailingPreRolloutWebhookIsAFailedCheck(t *testing.T) {
	r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "pre", Type: v1alpha1.PreRolloutHook, URL: "http://x"}))
	r.h.refuse = map[string]error{"pre": errors.New("HTTP 503")}
	r.progressing()

	first := r.mustStep()
	want := canary.Event{Type: "Warning", Reason: "Step", Message: "check failed (1/2): pre-rollout webhook pre: HTTP 503"}
	if diff := cmp.Diff([]canary.Event{want}, first.Events); diff != "" {
		t.Errorf("events of the first step (-want +got):\n%s", diff)
	}
	if st := r.c.Status; st.FailedChecks != 1 || st.CanaryWeight != 0 || st.Iterations != 0 {
		t.Errorf("after a refused pre-rollout: failed %d, weight %d, iterations %d; want 1, 0, 0 (no traffic yet)", st.FailedChecks, st.CanaryWeight, st.Iterations)
	}

	second := r.mustStep()
	failed := eventOf(t, second.Events, string(v1alpha1.CanaryPhaseFailed))
	if want := "rolled back: 2 failed checks reached the threshold; last: pre-rollout webhook pre: HTTP 503"; failed.Type != "Warning" || failed.Message != want {
		t.Errorf("Failed event = %+v, want a Warning saying %q", failed, want)
	}
	if len(r.k.weights) != 0 || r.m.calls != 0 {
		t.Errorf("a canary refused by pre-rollout got weights %v and %d metric checks, want none", r.k.weights, r.m.calls)
	}
	if !slices.Contains(r.h.events, "Warning: "+failed.Message) || !slices.Contains(r.h.events, "Normal: initialization done: podinfo-primary serves all traffic, podinfo is scaled to zero") {
		t.Errorf("events sent to the event webhooks %q lack the rollback or the initialization", r.h.events)
	}
}

func TestFailedMetricSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer v1alpha1.MetricResult
		want   string
	}{
		{"the checker's message", v1alpha1.MetricResult{Value: "0.5", Message: "value 0.5 below min 0.99"}, "value 0.5 below min 0.99"},
		{"no value and no message", v1alpha1.MetricResult{}, "no value"},
		{"a value and no message", v1alpha1.MetricResult{Value: "0.5"}, "value 0.5 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, weighted())
			r.progressing()
			r.mustStep() // weight 10, no check yet
			r.m.answer = func(v1alpha1.CanaryMetric) v1alpha1.MetricResult {
				a := tc.answer
				a.Name = "answered under another name"
				return a
			}
			res := r.mustStep()
			want := "check failed (1/2): metric request-success-rate: " + tc.want
			if len(res.Events) != 1 || res.Events[0].Message != want || res.Events[0].Type != "Warning" {
				t.Errorf("events %+v, want one Warning saying %q", res.Events, want)
			}
			wantMetrics := []v1alpha1.MetricResult{{Name: "request-success-rate", Value: tc.answer.Value, Message: tc.answer.Message}}
			if diff := cmp.Diff(wantMetrics, r.c.Status.LastMetrics); diff != "" {
				t.Errorf("lastMetrics, under the Canary's metric name (-want +got):\n%s", diff)
			}
			if r.c.Status.CanaryWeight != 10 {
				t.Errorf("weight %d after a failed check, want it held at 10", r.c.Status.CanaryWeight)
			}
		})
	}
}

func TestEveryMetricIsCheckedAndOnlyTheFailedOnesNamed(t *testing.T) {
	c := weighted()
	c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, v1alpha1.CanaryMetric{Name: "request-duration"})
	r := newRig(t, c)
	r.progressing()
	r.mustStep()
	r.m.answer = func(m v1alpha1.CanaryMetric) v1alpha1.MetricResult {
		if m.Name == "request-duration" {
			return v1alpha1.MetricResult{Value: "612", Message: "value 612 above max 500"}
		}
		return v1alpha1.MetricResult{Value: "0.999", Passed: true}
	}
	res := r.mustStep()
	if want := "check failed (1/2): metric request-duration: value 612 above max 500"; len(res.Events) != 1 || res.Events[0].Message != want {
		t.Errorf("events %+v, want one saying %q", res.Events, want)
	}
	want := []v1alpha1.MetricResult{
		{Name: "request-success-rate", Value: "0.999", Passed: true},
		{Name: "request-duration", Value: "612", Message: "value 612 above max 500"},
	}
	if diff := cmp.Diff(want, r.c.Status.LastMetrics); diff != "" {
		t.Errorf("lastMetrics (-want +got):\n%s", diff)
	}
	last := r.l.entries[len(r.l.entries)-1]
	if diff := cmp.Diff(want, last.Metrics); diff != "" {
		t.Errorf("the step's ledger entry metrics (-want +got):\n%s", diff)
	}
	if last.Weight != 10 || last.FailedChecks != 1 || last.Phase != v1alpha1.CanaryPhaseProgressing {
		t.Errorf("ledger entry at weight %d, %d failed, phase %s; want 10, 1, Progressing", last.Weight, last.FailedChecks, last.Phase)
	}
}

func TestStepWeightsAreFollowedToTheLast(t *testing.T) {
	c := weighted()
	c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight = 0, 0
	c.Spec.Analysis.StepWeights = []int{5, 25, 50}
	r := newRig(t, c)
	r.progressing()
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	if diff := cmp.Diff([]int{5, 25, 50, 0}, r.k.weights); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	if r.m.calls != 3 {
		t.Errorf("%d metric checks, want 3 (at 5, 25 and 50)", r.m.calls)
	}
}

func TestStepErrorsNameTheCanary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(r *rig)
		want  string
	}{
		{"an unknown phase in status", func(r *rig) { r.c.Status.Phase = "Paused" },
			`canary apps/podinfo: unknown phase "Paused" in status`},
		{"a router that cannot reconcile", func(r *rig) { r.k.routerErr = errors.New("httproutes is forbidden") },
			"reconciling the Services and routes of canary apps/podinfo: httproutes is forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, weighted())
			r.initialized()
			tc.setup(r)
			phase := r.c.Status.Phase
			_, err := r.step()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Step = %v, want %q", err, tc.want)
			}
			if got := condition(r.c, v1alpha1.ReadyCondition); got != "False/"+canary.ReasonStepFailed+": "+tc.want {
				t.Errorf("Ready = %s", got)
			}
			if r.c.Status.Phase != phase {
				t.Errorf("phase %s after a failed step, want %s kept", r.c.Status.Phase, phase)
			}
		})
	}
}

// An agent without a metric checker or webhooks never passes a check it
// did not run: the analysis fails and the primary keeps the old spec.
func TestUnavailableSeamsNeverPass(t *testing.T) {
	ctx := context.Background()
	m := canary.Unavailable{}.Check(ctx, nil, v1alpha1.CanaryMetric{Name: "request-success-rate"})
	if want := (v1alpha1.MetricResult{Name: "request-success-rate", Message: "metric checks are not available in this agent"}); m != want {
		t.Errorf("Check = %+v, want %+v", m, want)
	}
	err := canary.Unavailable{}.Call(ctx, nil, v1alpha1.CanaryWebhook{Name: "load"}, v1alpha1.CanaryPhaseProgressing)
	if !errors.Is(err, canary.ErrUnavailable) || err.Error() != "webhooks are not available in this agent" {
		t.Errorf("Call = %v, want ErrUnavailable", err)
	}

	k := newCluster()
	e, err := canary.New(k, k, canary.Unavailable{}, canary.Unavailable{})
	if err != nil {
		t.Fatal(err)
	}
	c := withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "load", URL: "http://x"})
	c.Spec.Ledger = nil
	now := stepTime
	for i := 0; i < 30 && c.Status.Phase != v1alpha1.CanaryPhaseFailed; i++ {
		if c.Status.Phase == v1alpha1.CanaryPhaseInitialized {
			k.release("spec-v2", "app:2.0.0")
		}
		res, err := e.Step(ctx, c, k.observe(now))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		now = now.Add(max(res.RequeueAfter, time.Second))
	}
	if c.Status.Phase != v1alpha1.CanaryPhaseFailed || k.primarySpec != "spec-v1" {
		t.Fatalf("phase %s, primary %s; want Failed with the primary on spec-v1", c.Status.Phase, k.primarySpec)
	}
	if got := condition(c, v1alpha1.ReadyCondition); !strings.Contains(got, "rollout webhook load: webhooks are not available in this agent") {
		t.Errorf("Ready = %s, want the unavailable webhook named", got)
	}
}

func TestPostRolloutFailureIsReportedAfterThePromotion(t *testing.T) {
	r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "notify", Type: v1alpha1.PostRolloutHook, URL: "http://x"}))
	r.h.refuse = map[string]error{"notify": errors.New("HTTP 502")}
	r.progressing()
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	last := r.results[len(r.results)-1]
	if diff := cmp.Diff([]string{string(v1alpha1.CanaryPhaseSucceeded), "PostRolloutFailed"}, reasons(last.Events)); diff != "" {
		t.Fatalf("events of the last step (-want +got):\n%s", diff)
	}
	if ev := last.Events[1]; ev.Type != "Warning" || ev.Message != "post-rollout webhook notify: HTTP 502" {
		t.Errorf("PostRolloutFailed = %+v", ev)
	}
	if r.k.primarySpec != "spec-v2" || conditionStatus(r.c, v1alpha1.PromotedCondition) != metav1.ConditionTrue {
		t.Errorf("primary %s, Promoted %s; a failed post-rollout webhook does not undo a promotion", r.k.primarySpec, condition(r.c, v1alpha1.PromotedCondition))
	}
}

func TestQuarantineFailureIsAWarningAfterTheRollback(t *testing.T) {
	r := newRig(t, weighted())
	r.q.err = errors.New("push refused by the remote")
	r.initialized()
	r.k.release("spec-bad", "app:2.0.1")
	r.m.fail = func(int) bool { return true }
	r.until(v1alpha1.CanaryPhaseFailed, 20)
	last := r.results[len(r.results)-1]
	ev := eventOf(t, last.Events, "QuarantineFailed")
	if ev.Type != "Warning" || ev.Message != "putting Git back on the previous image failed: push refused by the remote" {
		t.Errorf("QuarantineFailed = %+v", ev)
	}
	if diff := cmp.Diff([]string{"app:2.0.1"}, r.q.images); diff != "" {
		t.Errorf("quarantined (-want +got):\n%s", diff)
	}
	if r.k.routes != [2]int{100, 0} || r.k.targetReplicas != 0 {
		t.Errorf("routes %v, target replicas %d; the rollback stands whatever Git says", r.k.routes, r.k.targetReplicas)
	}
}

func TestRequestsDuringAnAnalysis(t *testing.T) {
	t.Run("abort while waiting for approval rolls back", func(t *testing.T) {
		r := newRig(t, withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmRolloutHook, URL: "http://x"}))
		r.h.refuse = map[string]error{"gate": errors.New("HTTP 403")}
		r.initialized()
		r.k.release("spec-v2", "app:2.0.0")
		r.until(v1alpha1.CanaryPhaseWaiting, 3)
		r.c.Annotations = map[string]string{v1alpha1.CanaryAbortAnnotation: "2026-12-04T05:00:00Z"}
		res := r.mustStep()
		ev := eventOf(t, res.Events, string(v1alpha1.CanaryPhaseFailed))
		if want := "rolled back: aborted by request (flotilla.io/abort-requested-at=2026-12-04T05:00:00Z)"; ev.Message != want {
			t.Errorf("Failed event %q, want %q", ev.Message, want)
		}
		if r.c.Status.HandledAbort != "2026-12-04T05:00:00Z" || r.c.Status.Phase != v1alpha1.CanaryPhaseFailed {
			t.Errorf("phase %s, handled abort %q", r.c.Status.Phase, r.c.Status.HandledAbort)
		}
		if got := conditionStatus(r.c, v1alpha1.PromotedCondition); got != metav1.ConditionFalse {
			t.Errorf("Promoted after an abort = %s, want False", got)
		}
	})
	t.Run("promote while checks fail promotes the judged spec", func(t *testing.T) {
		r := newRig(t, weighted())
		r.progressing()
		r.m.fail = func(int) bool { return true }
		r.mustStep()
		r.mustStep()
		if r.c.Status.FailedChecks != 1 {
			t.Fatalf("failed checks %d before the request, want 1", r.c.Status.FailedChecks)
		}
		r.c.Annotations = map[string]string{v1alpha1.CanaryPromoteAnnotation: "now"}
		res := r.mustStep()
		ev := eventOf(t, res.Events, string(v1alpha1.CanaryPhasePromoting))
		if want := "promotion requested (flotilla.io/promote-requested-at=now): copying the canary's spec to the primary"; ev.Message != want {
			t.Errorf("Promoting event %q, want %q", ev.Message, want)
		}
		r.until(v1alpha1.CanaryPhaseSucceeded, 5)
		if r.k.primarySpec != "spec-v2" || r.c.Status.HandledPromote != "now" {
			t.Errorf("primary %s, handled %q; want spec-v2 and now", r.k.primarySpec, r.c.Status.HandledPromote)
		}
	})
}

// earlyStep steps half an interval after the last analysis step: too soon
// for the next one.
func (r *rig) earlyStep() canary.Result {
	r.t.Helper()
	e, err := canary.New(r.k, r.k, r.m, r.h)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := e.Step(context.Background(), r.c, r.k.observe(r.c.Status.LastStepAt.Add(30*time.Second)))
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

func TestBetweenStepsTheConditionsSayWhereTheAnalysisIs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		canary *v1alpha1.Canary
		want   string
	}{
		{"weights", weighted(), "Unknown/Progressing: analysing: weight 10/30, 0/2 failed checks"},
		{"blue/green", blueGreen(), "Unknown/Progressing: analysing: iteration 1/3, 0/2 failed checks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.canary)
			r.progressing()
			r.mustStep()
			res := r.earlyStep()
			if got := condition(r.c, v1alpha1.ReadyCondition); got != tc.want {
				t.Errorf("Ready = %s, want %s", got, tc.want)
			}
			if got := condition(r.c, v1alpha1.PromotedCondition); !strings.HasPrefix(got, "Unknown/Progressing") {
				t.Errorf("Promoted during the analysis = %s, want Unknown/Progressing", got)
			}
			if res.RequeueAfter != 30*time.Second || len(res.Events) != 0 {
				t.Errorf("early step: requeue %s, events %v; want the 30s left and no event", res.RequeueAfter, res.Events)
			}
		})
	}
}

func TestPromotedIsUnknownWhileInitializing(t *testing.T) {
	r := newRig(t, weighted())
	r.k.primaryBroken = true
	r.mustStep()
	if got := condition(r.c, v1alpha1.PromotedCondition); !strings.HasPrefix(got, "Unknown/Initializing: waiting for podinfo-primary to be ready") {
		t.Errorf("Promoted = %s, want Unknown/Initializing with the wait", got)
	}
}

func TestIdlePhasesLookAgainEachInterval(t *testing.T) {
	r := newRig(t, weighted())
	r.initialized()
	res := r.mustStep()
	if res.RequeueAfter != time.Minute || len(res.Events) != 0 {
		t.Errorf("idle step: requeue %s, events %v; want 1m (the interval) and no event", res.RequeueAfter, res.Events)
	}
	if got := condition(r.c, v1alpha1.ReadyCondition); got != "True/Initialized: podinfo-primary serves all traffic" {
		t.Errorf("Ready when idle = %s", got)
	}
	r.k.release("spec-v2", "app:2.0.0")
	r.until(v1alpha1.CanaryPhaseSucceeded, 20)
	r.mustStep()
	if got := condition(r.c, v1alpha1.ReadyCondition); got != "True/Succeeded: promotion completed: podinfo-primary runs app:2.0.0" {
		t.Errorf("Ready when idle after a promotion = %s", got)
	}
}

func TestRestartDuringTheAnalysisIsAnEvent(t *testing.T) {
	r := newRig(t, weighted())
	r.progressing()
	r.mustStep()
	r.k.release("spec-v3", "app:3.0.0")
	res := r.mustStep()
	ev := eventOf(t, res.Events, "Restarted")
	if want := "new revision app:3.0.0 during the analysis: starting it again from weight 0"; ev.Message != want {
		t.Errorf("Restarted = %q, want %q", ev.Message, want)
	}
	if diff := cmp.Diff([]string{"app:3.0.0"}, r.c.Status.CanaryImages); diff != "" {
		t.Errorf("canaryImages (-want +got):\n%s", diff)
	}
}

// While the ledger cannot be written, status keeps the latest 50 entries
// (the oldest go first); the next good write sends them all, oldest first.
func TestPendingLedgerKeepsTheLatestFifty(t *testing.T) {
	c := blueGreen()
	c.Spec.Analysis.Iterations = 100
	r := newRig(t, c)
	r.l.err = errors.New("push refused")
	r.progressing()
	for range 60 {
		r.mustStep()
	}
	pending := r.c.Status.Ledger.Pending
	if len(pending) != 50 {
		t.Fatalf("%d pending entries, want 50", len(pending))
	}
	decode := func(s string) canary.LedgerEntry {
		var e canary.LedgerEntry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	first, last := decode(pending[0]), decode(pending[49])
	if want := "iteration 11/100: the canary is judged through podinfo-canary"; first.Message != want {
		t.Errorf("oldest pending entry %q, want %q", first.Message, want)
	}
	if want := "iteration 60/100: the canary is judged through podinfo-canary"; last.Message != want {
		t.Errorf("latest pending entry %q, want %q", last.Message, want)
	}

	r.l.err = nil
	r.mustStep()
	ls := r.c.Status.Ledger
	if len(r.l.entries) != 51 || ls.Entries != 51 || ls.Pending != nil || ls.LastError != "" || ls.Commit != "abc123" {
		t.Fatalf("after a good write: %d written, status %+v; want 51 written and nothing pending", len(r.l.entries), ls)
	}
	if got := r.l.entries[0].Message; got != first.Message {
		t.Errorf("first entry written %q, want the oldest pending %q", got, first.Message)
	}
}
