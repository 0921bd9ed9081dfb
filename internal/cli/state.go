package cli

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// objectState is what the verbs read from the status of a Stack or a
// GitRepository.
type objectState struct {
	// Ready is the Ready condition, nil before the first reconcile.
	Ready *metav1.Condition
	// Reconciling is the Reconciling condition, nil when none is under way.
	Reconciling *metav1.Condition
	// Stalled is the Stalled condition, nil unless only a change of spec helps.
	Stalled *metav1.Condition
	// Generation and ObservedGeneration tell whether the status is current.
	Generation, ObservedGeneration int64
	// Suspended is spec.suspend.
	Suspended bool
	// Revision is the applied revision of a Stack, the artifact's of a source.
	Revision string
	// LastHandled is status.lastHandledReconcileAt.
	LastHandled string
	// Path is a Receiver's webhook path.
	Path string
}

// stateOf reads the state of a Stack or a GitRepository; any other object
// has a zero state.
func stateOf(obj client.Object) objectState {
	st := objectState{Generation: obj.GetGeneration()}
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.Stack:
		conds, st.Suspended = o.Status.Conditions, o.Spec.Suspend
		st.ObservedGeneration, st.Revision = o.Status.ObservedGeneration, o.Status.LastAppliedRevision
		st.LastHandled = o.Status.LastHandledReconcileAt
	case *v1alpha1.GitRepository:
		conds, st.Suspended = o.Status.Conditions, o.Spec.Suspend
		st.ObservedGeneration, st.LastHandled = o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		if o.Status.Artifact != nil {
			st.Revision = o.Status.Artifact.Revision
		}
	default:
		var ok bool
		if conds, ok = imageState(obj, &st); !ok {
			st, conds = notifyState(obj, st)
		}
	}
	st.Ready = meta.FindStatusCondition(conds, v1alpha1.ReadyCondition)
	st.Reconciling = meta.FindStatusCondition(conds, v1alpha1.ReconcilingCondition)
	st.Stalled = meta.FindStatusCondition(conds, v1alpha1.StalledCondition)
	return st
}

// GetGeneration returns the object's generation, for conditions.ReadinessOf.
func (st objectState) GetGeneration() int64 { return st.Generation }

// GetConditions returns the Ready and Stalled conditions the state holds,
// for conditions.ReadinessOf.
func (st objectState) GetConditions() []metav1.Condition {
	var conds []metav1.Condition
	for _, c := range []*metav1.Condition{st.Ready, st.Stalled} {
		if c != nil {
			conds = append(conds, *c)
		}
	}
	return conds
}
