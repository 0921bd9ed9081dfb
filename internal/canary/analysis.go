package canary

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// progress runs the analysis: wait for the canary to be ready, then one step
// per interval (hooks, checks, then more traffic or promotion).
func (s *step) progress() error {
	st := &s.c.Status
	if s.newRevision() {
		return s.startAnalysis()
	}
	if err := s.workload.ScaleTarget(s.ctx, s.c, true); err != nil {
		return err
	}
	if !s.obs.Target.Ready {
		if s.deadlinePassed() {
			return s.rollback(fmt.Sprintf("canary %s not ready after progressDeadlineSeconds (%s): %s", s.c.Spec.TargetRef.Name, ProgressDeadline(s.c), s.obs.Target.Message))
		}
		s.message = "waiting for the canary " + s.c.Spec.TargetRef.Name + " to be ready: " + s.obs.Target.Message
		s.requeue(s.poll())
		return nil
	}
	if st.LastStepAt != nil {
		if wait := st.LastStepAt.Add(Interval(s.c)).Sub(s.obs.Now); wait > 0 {
			s.message = s.progressMessage()
			s.requeue(wait)
			return nil
		}
	}
	st.LastStepAt = s.now()
	s.requeue(Interval(s.c))
	if st.Iterations == 0 {
		return s.firstStep()
	}
	return s.analysisStep()
}

// firstStep runs the pre-rollout webhooks and sends the first traffic.
func (s *step) firstStep() error {
	if err := s.runHooks(v1alpha1.PreRolloutHook); err != nil {
		return s.failCheck(err.Error())
	}
	return s.advance()
}

// analysisStep is one interval: the rollback webhooks, the rollout
// webhooks, the metric checks, then more traffic or the promotion.
func (s *step) analysisStep() error {
	if name, asked := s.rollbackAsked(); asked {
		return s.rollback("the rollback webhook " + name + " asked for it")
	}
	if err := s.runHooks(v1alpha1.RolloutHook); err != nil {
		return s.failCheck(err.Error())
	}
	if err := s.checkMetrics(); err != nil {
		return s.failCheck(err.Error())
	}
	if !s.complete() {
		return s.advance()
	}
	if ok, why := s.gate(v1alpha1.ConfirmPromotionHook); !ok {
		s.enter(v1alpha1.CanaryPhaseWaitingPromotion, eventNormal, "analysis passed, waiting for promotion approval: "+why)
		return nil
	}
	s.enter(v1alpha1.CanaryPhasePromoting, eventNormal, "analysis passed: copying the canary's spec to "+PrimaryName(s.c))
	s.requeue(time.Second)
	return nil
}

// complete reports whether the analysis has run its course: every
// iteration (blue/green) or the largest weight.
func (s *step) complete() bool {
	if BlueGreen(s.c) {
		return s.c.Status.Iterations >= s.c.Spec.Analysis.Iterations
	}
	return s.c.Status.CanaryWeight >= MaxWeight(s.c)
}

// advance moves to the next iteration, or (weights) to the next weight when
// the confirm-traffic-increase webhooks approve.
func (s *step) advance() error {
	st := &s.c.Status
	if BlueGreen(s.c) {
		st.Iterations++
		s.stepRecord(fmt.Sprintf("iteration %d/%d: the canary is judged through %s", st.Iterations, s.c.Spec.Analysis.Iterations, CanaryServiceName(s.c)))
		return nil
	}
	next := NextWeight(s.c, st.CanaryWeight)
	if ok, why := s.gate(v1alpha1.ConfirmTrafficIncreaseHook); !ok {
		s.message = fmt.Sprintf("holding weight %d: %s", st.CanaryWeight, why)
		return nil
	}
	if err := s.router.SetRoutes(s.ctx, s.c, 100-next, next); err != nil {
		return err
	}
	st.CanaryWeight = next
	st.Iterations++
	s.stepRecord(fmt.Sprintf("advance: canary weight %d", next))
	return nil
}

// failCheck counts a failed check and, at the threshold, rolls back or
// freezes.
func (s *step) failCheck(why string) error {
	st := &s.c.Status
	st.FailedChecks++
	threshold := Threshold(s.c)
	msg := fmt.Sprintf("check failed (%d/%d): %s", st.FailedChecks, threshold, why)
	if st.FailedChecks < threshold {
		s.stepRecordType(eventWarning, msg)
		return nil
	}
	if s.c.Spec.Analysis.OnFailure == v1alpha1.OnFailureFreeze {
		s.enter(v1alpha1.CanaryPhaseFrozen, eventWarning, fmt.Sprintf("%s; frozen at weight %d until `flotilla promote canary %s` or `flotilla abort canary %s`",
			msg, st.CanaryWeight, s.c.Name, s.c.Name))
		return nil
	}
	return s.rollback(fmt.Sprintf("%d failed checks reached the threshold; last: %s", st.FailedChecks, why))
}

// checkMetrics runs every metric check; any failure fails the step. A check
// is never passed without the checker's answer.
func (s *step) checkMetrics() error {
	metrics := s.c.Spec.Analysis.Metrics
	if len(metrics) == 0 {
		return nil
	}
	results := make([]v1alpha1.MetricResult, 0, len(metrics))
	var failed []string
	for _, m := range metrics {
		r := s.checker.Check(s.ctx, s.c, m)
		r.Name = m.Name
		results = append(results, r)
		if !r.Passed {
			failed = append(failed, fmt.Sprintf("metric %s: %s", m.Name, metricFailure(r)))
		}
	}
	s.metrics = results
	s.c.Status.LastMetrics = results
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

func metricFailure(r v1alpha1.MetricResult) string {
	switch {
	case r.Message != "":
		return r.Message
	case r.Value == "":
		return "no value"
	}
	return "value " + r.Value + " out of range"
}

// gate asks every webhook of type t; ok is false, with why, when one did
// not answer 2xx. No webhook of that type is an approval.
func (s *step) gate(t v1alpha1.HookType) (ok bool, why string) {
	if err := s.runHooks(t); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// runHooks calls every webhook of type t and joins their failures.
func (s *step) runHooks(t v1alpha1.HookType) error {
	var errs []error
	for _, h := range s.c.Spec.Analysis.Webhooks {
		if hookType(h) != t {
			continue
		}
		if err := s.hooks.Call(s.ctx, s.c, h, s.c.Status.Phase); err != nil {
			errs = append(errs, fmt.Errorf("%s webhook %s: %w", t, h.Name, err))
		}
	}
	err := errors.Join(errs...)
	if err != nil && t == v1alpha1.PostRolloutHook {
		s.record(eventWarning, "PostRolloutFailed", err.Error())
	}
	return err
}

// rollbackAsked calls the rollback webhooks: the first that answers 2xx
// asks for a rollback.
func (s *step) rollbackAsked() (string, bool) {
	for _, h := range s.c.Spec.Analysis.Webhooks {
		if hookType(h) == v1alpha1.RollbackHook && s.hooks.Call(s.ctx, s.c, h, s.c.Status.Phase) == nil {
			return h.Name, true
		}
	}
	return "", false
}

// hookType is the webhook's type; empty is rollout (Flagger's default).
func hookType(h v1alpha1.CanaryWebhook) v1alpha1.HookType {
	if h.Type == "" {
		return v1alpha1.RolloutHook
	}
	return h.Type
}

// progressMessage describes a Progressing canary between steps.
func (s *step) progressMessage() string {
	st := s.c.Status
	if BlueGreen(s.c) {
		return fmt.Sprintf("analysing: iteration %d/%d, %d/%d failed checks", st.Iterations, s.c.Spec.Analysis.Iterations, st.FailedChecks, Threshold(s.c))
	}
	return fmt.Sprintf("analysing: weight %d/%d, %d/%d failed checks", st.CanaryWeight, MaxWeight(s.c), st.FailedChecks, Threshold(s.c))
}
