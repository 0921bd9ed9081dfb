package controller

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// statusObject is a Provider, Alert or Receiver: an object with
// conditions whose status the reconciler patches once at the end.
type statusObject interface {
	client.Object
	conditions.Object
}

// patchStatusOf writes obj's status when status(obj) changed since
// before; status returns the status struct to compare.
func patchStatusOf[T statusObject](ctx context.Context, c client.Client, before, obj T, status func(T) any) error {
	if equality.Semantic.DeepEqual(status(before), status(obj)) {
		return nil
	}
	return client.IgnoreNotFound(c.Status().Patch(ctx, obj, client.MergeFrom(before)))
}

// secretRefsIndex indexes objects by the names of the Secrets they read.
const secretRefsIndex = ".spec.secretRefs"

// notifyController starts the controller of a notification kind: it
// reconciles on a change of spec or of the reconcile request annotation.
func notifyController(mgr ctrl.Manager, obj client.Object) *builder.TypedBuilder[reconcile.Request] {
	return ctrl.NewControllerManagedBy(mgr).
		For(obj, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{})))
}

// notifyStatus points into the status every notification kind has.
type notifyStatus struct {
	observed *int64
	request  *v1alpha1.ReconcileRequestStatus
	// compare is what, when it changed, makes the status worth a patch.
	compare any
}

// reconcileOnce is the thin Reconcile of the notification kinds: fetch,
// run check, record the generation and request handled, and patch the
// status once. found is false when the object is gone.
func reconcileOnce[T statusObject](ctx context.Context, c client.Client, key types.NamespacedName, obj T,
	status func(T) notifyStatus, check func(context.Context, T)) (found bool, err error) {
	if err := c.Get(ctx, key, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	before := obj.DeepCopyObject().(T)
	check(ctx, obj)
	st := status(obj)
	*st.observed = obj.GetGeneration()
	st.request.LastHandledReconcileAt = obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
	return true, patchStatusOf(ctx, c, before, obj, func(o T) any { return status(o).compare })
}
