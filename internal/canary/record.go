package canary

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// Event types, as Kubernetes names them.
const (
	eventNormal  = "Normal"
	eventWarning = "Warning"
)

// Reasons of the conditions the engine sets beside the phase names.
const (
	// ReasonStepFailed is Ready=False when a step could not act (an API or
	// router error); the same step is tried again.
	ReasonStepFailed = "StepFailed"
	// ReasonPrimaryNotReady is Ready=False when the primary is not ready
	// within progressDeadlineSeconds of the initialization.
	ReasonPrimaryNotReady = "PrimaryNotReady"
)

// maxPendingLedger bounds the ledger entries kept in status while the
// ledger cannot be written; the oldest go first.
const maxPendingLedger = 50

// enter moves to phase (a no-op on the phase when it is the current one)
// and records message as an event and a ledger entry.
func (s *step) enter(phase v1alpha1.CanaryPhase, eventType, message string) {
	st := &s.c.Status
	if st.Phase != phase {
		st.Phase = phase
		st.PhaseStartedAt, st.LastTransitionTime = s.now(), s.now()
	}
	s.record(eventType, string(phase), message)
}

// record adds an event and a ledger entry, and makes message the step's.
func (s *step) record(eventType, reason, message string) {
	st := s.c.Status
	s.message = message
	s.result.Events = append(s.result.Events, Event{Type: eventType, Reason: reason, Message: message})
	s.entries = append(s.entries, LedgerEntry{
		Time: s.obs.Now, Canary: s.name(), Phase: st.Phase, Weight: st.CanaryWeight,
		FailedChecks: st.FailedChecks, Images: st.CanaryImages, Metrics: s.metrics, Message: message,
	})
}

// stepRecord records an analysis step that passed.
func (s *step) stepRecord(message string) { s.stepRecordType(eventNormal, message) }

// stepRecordType records an analysis step.
func (s *step) stepRecordType(eventType, message string) { s.record(eventType, "Step", message) }

// writeLedger hands the step's entries, after those still pending, to the
// ledger when the Canary asks for one. Entries that could not be written
// stay in status.ledger.pending for the next step.
func (e *Engine) writeLedger(ctx context.Context, c *v1alpha1.Canary, s *step) {
	if e.ledger == nil || c.Spec.Ledger == nil {
		return
	}
	if c.Status.Ledger == nil {
		c.Status.Ledger = &v1alpha1.LedgerStatus{}
	}
	ls := c.Status.Ledger
	entries := append(decodePending(ls.Pending), s.entries...)
	if len(entries) == 0 {
		return
	}
	commit, err := e.ledger.Write(ctx, c, entries)
	if err != nil {
		ls.LastError = err.Error()
		ls.Pending = encodePending(entries)
		return
	}
	ls.Commit, ls.LastError, ls.Pending = commit, "", nil
	ls.Entries += len(entries)
}

func decodePending(pending []string) []LedgerEntry {
	out := make([]LedgerEntry, 0, len(pending))
	for _, p := range pending {
		var e LedgerEntry
		if json.Unmarshal([]byte(p), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

func encodePending(entries []LedgerEntry) []string {
	if len(entries) > maxPendingLedger {
		entries = entries[len(entries)-maxPendingLedger:]
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// setConditions sets Ready, Reconciling (kstatus) and Promoted from the
// phase the step left.
func (s *step) setConditions(err error) {
	c, msg := s.c, s.message
	phase := c.Status.Phase
	switch {
	case err != nil:
		conditions.MarkFailed(c, ReasonStepFailed, msg)
	case s.stuck:
		conditions.MarkFailed(c, ReasonPrimaryNotReady, msg)
	case phase == v1alpha1.CanaryPhaseInitialized || phase == v1alpha1.CanaryPhaseSucceeded:
		conditions.MarkReady(c, string(phase), msg)
	case phase == v1alpha1.CanaryPhaseFailed || phase == v1alpha1.CanaryPhaseFrozen:
		conditions.MarkFailed(c, string(phase), msg)
	default:
		conditions.MarkWaiting(c, string(phase), msg)
	}
	setPromoted(c)
}

// setPromoted sets Flagger's Promoted condition: True once the primary runs
// the last judged spec, False after a rollback, Unknown during an analysis.
func setPromoted(c *v1alpha1.Canary) {
	status, reason := metav1.ConditionUnknown, string(c.Status.Phase)
	switch c.Status.Phase {
	case v1alpha1.CanaryPhaseInitialized, v1alpha1.CanaryPhaseSucceeded:
		status = metav1.ConditionTrue
	case v1alpha1.CanaryPhaseFailed:
		status = metav1.ConditionFalse
	case "", v1alpha1.CanaryPhaseInitializing:
		reason = string(v1alpha1.CanaryPhaseInitializing)
	}
	conds := c.GetConditions()
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type: v1alpha1.PromotedCondition, Status: status, Reason: reason,
		Message: lastMessage(c), ObservedGeneration: c.Generation,
	})
	c.SetConditions(conds)
}

// lastMessage is the Ready condition's message.
func lastMessage(c *v1alpha1.Canary) string {
	if r := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ReadyCondition); r != nil {
		return r.Message
	}
	return ""
}
