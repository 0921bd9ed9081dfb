package conditions

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// State is what an object's conditions say about its last reconcile, in
// the few meanings that readers (the CLI, bootstrap, the dashboard, the
// demo, the benchmarks, dependent Stacks) act on.
type State string

const (
	// StateProgressing: nothing is decided for the current generation yet
	// (no status, a newer spec the agent has not handled, Ready Unknown
	// while work is under way or waits on other work).
	StateProgressing State = "Progressing"
	// StateReady: Ready is True for the current generation.
	StateReady State = "Ready"
	// StateFailed: Ready is False for the current generation; the agent
	// retries, and a retry may cure it (a new attempt keeps Ready False
	// until it succeeds).
	StateFailed State = "Failed"
	// StateStalled: Stalled is True for the current generation; only a
	// change of spec, or of something the spec references, can cure it.
	StateStalled State = "Stalled"
)

// Readiness is an object's State with the reason and message that explain
// it, taken from the condition that decided it.
type Readiness struct {
	State   State
	Reason  string
	Message string
}

// Done reports a decided state: Ready, Failed or Stalled.
func (r Readiness) Done() bool { return r.State != StateProgressing }

// String renders the readiness for a progress line or an error.
func (r Readiness) String() string {
	if r.Reason == "" {
		return fmt.Sprintf("%s: %s", r.State, r.Message)
	}
	return fmt.Sprintf("%s (%s): %s", r.State, r.Reason, r.Message)
}

// ReadinessOf reads obj's Ready and Stalled conditions. A condition
// observed for an older generation decides nothing: the agent has not
// handled the current spec yet.
func ReadinessOf(obj Reader) Readiness {
	conds, gen := obj.GetConditions(), obj.GetGeneration()
	if s := meta.FindStatusCondition(conds, v1alpha1.StalledCondition); s != nil &&
		s.Status == metav1.ConditionTrue && s.ObservedGeneration == gen {
		return Readiness{State: StateStalled, Reason: s.Reason, Message: s.Message}
	}
	ready := meta.FindStatusCondition(conds, v1alpha1.ReadyCondition)
	switch {
	case ready == nil:
		return Readiness{State: StateProgressing, Message: "no status yet (waiting for the agent)"}
	case ready.ObservedGeneration != gen:
		return Readiness{State: StateProgressing, Reason: v1alpha1.ReasonProgressing,
			Message: fmt.Sprintf("the agent has not handled generation %d yet", gen)}
	case ready.Status == metav1.ConditionTrue:
		return Readiness{State: StateReady, Reason: ready.Reason, Message: ready.Message}
	case ready.Status == metav1.ConditionFalse:
		return Readiness{State: StateFailed, Reason: ready.Reason, Message: ready.Message}
	}
	return Readiness{State: StateProgressing, Reason: ready.Reason, Message: ready.Message}
}
