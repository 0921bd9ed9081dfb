package canary

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// now is the observation's time as a status timestamp.
func (s *step) now() *metav1.Time { t := metav1.NewTime(s.obs.Now); return &t }

// inAnalysis reports whether phase is one a promote or abort request acts on.
func inAnalysis(phase v1alpha1.CanaryPhase) bool {
	switch phase {
	case v1alpha1.CanaryPhaseWaiting, v1alpha1.CanaryPhaseProgressing, v1alpha1.CanaryPhaseWaitingPromotion, v1alpha1.CanaryPhaseFrozen:
		return true
	}
	return false
}

// requests handles a new abort or promote annotation; done says the step
// ended there.
func (s *step) requests() (done bool, err error) {
	st := &s.c.Status
	phase := st.Phase
	if at := s.c.GetAnnotations()[v1alpha1.CanaryAbortAnnotation]; at != "" && at != st.HandledAbort {
		st.HandledAbort = at
		if inAnalysis(phase) {
			return true, s.rollback("aborted by request (" + v1alpha1.CanaryAbortAnnotation + "=" + at + ")")
		}
		s.record(eventNormal, "AbortIgnored", fmt.Sprintf("abort request %s ignored: no analysis is running (phase %s)", at, phaseOrNone(phase)))
	}
	if at := s.c.GetAnnotations()[v1alpha1.CanaryPromoteAnnotation]; at != "" && at != st.HandledPromote {
		st.HandledPromote = at
		if inAnalysis(phase) {
			s.enter(v1alpha1.CanaryPhasePromoting, eventNormal, "promotion requested ("+v1alpha1.CanaryPromoteAnnotation+"="+at+"): copying the canary's spec to the primary")
			s.requeue(time.Second)
			return true, nil
		}
		s.record(eventNormal, "PromoteIgnored", fmt.Sprintf("promote request %s ignored: no analysis is running (phase %s)", at, phaseOrNone(phase)))
	}
	return false, nil
}

func phaseOrNone(p v1alpha1.CanaryPhase) string {
	if p == "" {
		return "none"
	}
	return string(p)
}

// initialize creates the primary from the target, routes everything to it
// and, once it is ready, scales the target to zero.
func (s *step) initialize() error {
	st := &s.c.Status
	if st.Phase == "" {
		s.enter(v1alpha1.CanaryPhaseInitializing, eventNormal, fmt.Sprintf("initializing: creating %s from %s, routing all traffic to it", PrimaryName(s.c), s.c.Spec.TargetRef.Name))
	}
	if err := s.workload.EnsurePrimary(s.ctx, s.c); err != nil {
		return err
	}
	if err := s.router.SetRoutes(s.ctx, s.c, 100, 0); err != nil {
		return err
	}
	if !s.obs.PrimaryExists || !s.obs.Primary.Ready {
		s.message = fmt.Sprintf("waiting for %s to be ready: %s", PrimaryName(s.c), s.obs.Primary.Message)
		if s.deadlinePassed() {
			s.stuck = true
			s.message = fmt.Sprintf("%s is not ready after progressDeadlineSeconds (%s): %s", PrimaryName(s.c), ProgressDeadline(s.c), s.obs.Primary.Message)
		}
		s.requeue(s.poll())
		return nil
	}
	if err := s.workload.ScaleTarget(s.ctx, s.c, false); err != nil {
		return err
	}
	st.LastAppliedSpec, st.LastPromotedSpec = s.obs.PrimarySpec, s.obs.PrimarySpec
	st.TrackedConfigs = s.obs.TrackedConfigs
	st.CanaryWeight, st.FailedChecks, st.Iterations = 0, 0, 0
	s.enter(v1alpha1.CanaryPhaseInitialized, eventNormal, fmt.Sprintf("initialization done: %s serves all traffic, %s is scaled to zero", PrimaryName(s.c), s.c.Spec.TargetRef.Name))
	s.requeue(s.poll())
	return nil
}

// newRevision reports whether the target runs a spec no analysis has judged.
func (s *step) newRevision() bool {
	return s.obs.TargetSpec != "" && s.obs.TargetSpec != s.c.Status.LastAppliedSpec
}

// idle waits, in Initialized, Succeeded or Failed, for a new revision.
func (s *step) idle() error {
	st := &s.c.Status
	// ConfigMaps and Secrets are not watched: look again each interval.
	s.requeue(Interval(s.c))
	if !s.newRevision() {
		s.message = idleMessage(s.c)
		return s.workload.ScaleTarget(s.ctx, s.c, false)
	}
	if s.obs.TargetSpec == st.LastPromotedSpec {
		st.LastAppliedSpec = s.obs.TargetSpec
		s.record(eventNormal, "Synced", "the target is back at the spec the primary runs: nothing to analyse")
		return s.workload.ScaleTarget(s.ctx, s.c, false)
	}
	return s.startAnalysis()
}

func idleMessage(c *v1alpha1.Canary) string {
	switch c.Status.Phase {
	case v1alpha1.CanaryPhaseSucceeded:
		return "promotion completed: " + PrimaryName(c) + " runs " + strings.Join(c.Status.CanaryImages, ", ")
	case v1alpha1.CanaryPhaseFailed:
		return lastMessage(c)
	}
	return PrimaryName(c) + " serves all traffic"
}

// startAnalysis begins (or restarts) the analysis of the target's spec.
func (s *step) startAnalysis() error {
	st := &s.c.Status
	if err := s.router.SetRoutes(s.ctx, s.c, 100, 0); err != nil {
		return err
	}
	restart := inAnalysis(st.Phase)
	st.LastAppliedSpec, st.TrackedConfigs, st.CanaryImages = s.obs.TargetSpec, s.obs.TrackedConfigs, s.obs.Images
	st.CanaryWeight, st.FailedChecks, st.Iterations = 0, 0, 0
	st.LastStepAt, st.LastMetrics, st.PhaseStartedAt = nil, nil, s.now()
	if st.Ledger != nil {
		st.Ledger.Entries = 0
	}
	what := "new revision " + strings.Join(s.obs.Images, ", ")
	if restart {
		s.record(eventNormal, "Restarted", what+" during the analysis: starting it again from weight 0")
	}
	if s.c.Spec.SkipAnalysis {
		s.enter(v1alpha1.CanaryPhasePromoting, eventNormal, what+": skipAnalysis is set, promoting at once")
		s.requeue(time.Second)
		return nil
	}
	if ok, why := s.gate(v1alpha1.ConfirmRolloutHook); !ok {
		s.enter(v1alpha1.CanaryPhaseWaiting, eventNormal, what+": waiting for approval: "+why)
		s.requeue(Interval(s.c))
		return nil
	}
	return s.beginProgress(what + ": starting the analysis")
}

// beginProgress scales the canary up and enters Progressing.
func (s *step) beginProgress(message string) error {
	if err := s.workload.ScaleTarget(s.ctx, s.c, true); err != nil {
		return err
	}
	s.c.Status.PhaseStartedAt = s.now()
	s.enter(v1alpha1.CanaryPhaseProgressing, eventNormal, message)
	s.requeue(s.poll())
	return nil
}

// waiting holds the analysis until every confirm-rollout webhook approves.
func (s *step) waiting() error {
	if s.newRevision() {
		return s.startAnalysis()
	}
	if ok, why := s.gate(v1alpha1.ConfirmRolloutHook); !ok {
		s.message = "waiting for approval: " + why
		s.requeue(Interval(s.c))
		return nil
	}
	return s.beginProgress("confirm-rollout approved: starting the analysis")
}

// waitingPromotion holds a judged canary until every confirm-promotion
// webhook approves.
func (s *step) waitingPromotion() error {
	if s.newRevision() {
		return s.startAnalysis()
	}
	if ok, why := s.gate(v1alpha1.ConfirmPromotionHook); !ok {
		s.message = "analysis passed, waiting for promotion approval: " + why
		s.requeue(Interval(s.c))
		return nil
	}
	s.enter(v1alpha1.CanaryPhasePromoting, eventNormal, "confirm-promotion approved: copying the canary's spec to the primary")
	s.requeue(time.Second)
	return nil
}

// frozen holds the weight after failed checks until a person decides (or
// a new revision restarts the analysis).
func (s *step) frozen() error {
	if s.newRevision() {
		return s.startAnalysis()
	}
	s.message = fmt.Sprintf("frozen at weight %d after %d failed checks: run `flotilla promote canary %s` or `flotilla abort canary %s`",
		s.c.Status.CanaryWeight, s.c.Status.FailedChecks, s.c.Name, s.c.Name)
	s.requeue(Interval(s.c))
	return nil
}

// promote copies the judged spec to the primary and waits for it.
func (s *step) promote() error {
	st := &s.c.Status
	if s.obs.PrimarySpec != st.LastAppliedSpec {
		if s.newRevision() {
			// The target moved on: its spec is not the one judged, so it
			// must not reach the primary.
			return s.startAnalysis()
		}
		if err := s.workload.Promote(s.ctx, s.c, st.LastAppliedSpec); err != nil {
			return err
		}
		s.message = "copying the canary's spec to " + PrimaryName(s.c)
		s.requeue(s.poll())
		return nil
	}
	if !s.obs.Primary.Ready {
		if s.deadlinePassed() {
			return s.rollback(fmt.Sprintf("%s not ready after progressDeadlineSeconds (%s) with the new spec: %s", PrimaryName(s.c), ProgressDeadline(s.c), s.obs.Primary.Message))
		}
		s.message = "waiting for " + PrimaryName(s.c) + " to roll out the new spec: " + s.obs.Primary.Message
		s.requeue(s.poll())
		return nil
	}
	st.LastPromotedSpec = st.LastAppliedSpec
	s.enter(v1alpha1.CanaryPhaseFinalising, eventNormal, PrimaryName(s.c)+" runs the new spec: routing all traffic to it")
	s.requeue(time.Second)
	return nil
}

// finalise routes everything to the promoted primary and scales the target
// down.
func (s *step) finalise() error {
	if err := s.router.SetRoutes(s.ctx, s.c, 100, 0); err != nil {
		return err
	}
	if err := s.workload.ScaleTarget(s.ctx, s.c, false); err != nil {
		return err
	}
	s.c.Status.CanaryWeight = 0
	s.enter(v1alpha1.CanaryPhaseSucceeded, eventNormal, "promotion completed: "+PrimaryName(s.c)+" runs "+strings.Join(s.c.Status.CanaryImages, ", "))
	s.runHooks(v1alpha1.PostRolloutHook)
	return nil
}

// rollback routes everything to the primary, scales the canary to zero and
// fails the analysis for reason.
func (s *step) rollback(reason string) error {
	if err := s.router.SetRoutes(s.ctx, s.c, 100, 0); err != nil {
		return err
	}
	if err := s.workload.ScaleTarget(s.ctx, s.c, false); err != nil {
		return err
	}
	s.c.Status.CanaryWeight = 0
	s.enter(v1alpha1.CanaryPhaseFailed, eventWarning, "rolled back: "+reason)
	s.runHooks(v1alpha1.PostRolloutHook)
	if s.Engine.rollback != nil && len(s.c.Status.CanaryImages) > 0 {
		if err := s.Engine.rollback.Quarantine(s.ctx, s.c, s.c.Status.CanaryImages, reason); err != nil {
			s.record(eventWarning, "QuarantineFailed", "putting Git back on the previous image failed: "+err.Error())
		}
	}
	return nil
}

// deadlinePassed reports whether the wait of the current phase (since it
// began or since the last step) is longer than progressDeadlineSeconds.
func (s *step) deadlinePassed() bool {
	st := s.c.Status
	var since metav1.Time
	if st.PhaseStartedAt != nil {
		since = *st.PhaseStartedAt
	}
	if st.LastStepAt != nil && st.LastStepAt.After(since.Time) {
		since = *st.LastStepAt
	}
	return !since.IsZero() && s.obs.Now.Sub(since.Time) > ProgressDeadline(s.c)
}
