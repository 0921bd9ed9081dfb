package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// ReconcileRequestedPredicate passes updates that change the
// flotilla.io/reconcile-requested-at annotation, which is how the CLI and
// webhooks ask for a reconcile now.
type ReconcileRequestedPredicate struct {
	predicate.Funcs
}

// Update implements predicate.Predicate.
func (ReconcileRequestedPredicate) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	key := v1alpha1.ReconcileRequestAnnotation
	return e.ObjectNew.GetAnnotations()[key] != e.ObjectOld.GetAnnotations()[key]
}
