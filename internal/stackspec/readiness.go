package stackspec

import (
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// ReadyAt reports whether the agent finished the Stack at revision: Ready
// is True for the current generation, the status was written for it, and
// revision is the last one applied. An empty revision means whatever
// revision was applied last, as long as one was.
//
// It is the one test of "done" that the agent (dependencies, drift), the
// CLI, bootstrap, the demo, the benchmarks and the test harnesses share.
func ReadyAt(obj *v1alpha1.Stack, revision string) bool {
	applied := obj.Status.LastAppliedRevision
	return conditions.ReadinessOf(obj).State == conditions.StateReady &&
		obj.Status.ObservedGeneration == obj.Generation &&
		applied != "" && (revision == "" || applied == revision)
}

// Describe renders what a wait for a Stack at revision should show when
// it is not there yet: its readiness and the revision it last applied.
func Describe(obj *v1alpha1.Stack) string {
	s := conditions.ReadinessOf(obj).String()
	if applied := obj.Status.LastAppliedRevision; applied != "" {
		s += "; last applied " + applied
	}
	return s
}
