package controller

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// AlertReconciler checks an Alert's spec and Provider. Matching events and
// sending messages is the notify engine's work, not a reconcile's.
type AlertReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=flotilla.io,resources=alerts,verbs=get;list;watch
// +kubebuilder:rbac:groups=flotilla.io,resources=alerts/status,verbs=get;update;patch

// SetupWithManager registers the reconciler; a change of a Provider
// reconciles the Alerts of its namespace.
func (r *AlertReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Alert{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{}))).
		Watches(&v1alpha1.Provider{}, handler.EnqueueRequestsFromMapFunc(r.alertsForProvider)).
		Complete(r)
}

func (r *AlertReconciler) alertsForProvider(ctx context.Context, o client.Object) []ctrl.Request {
	var list v1alpha1.AlertList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, a := range list.Items {
		if a.Spec.ProviderRef.Name == o.GetName() {
			reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: a.Namespace, Name: a.Name}})
		}
	}
	return reqs
}

// Reconcile checks one Alert.
func (r *AlertReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.Alert{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := obj.DeepCopy()
	defer func() {
		obj.Status.ObservedGeneration = obj.Generation
		obj.Status.LastHandledReconcileAt = obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
		// Only conditions are compared: episodes and deliveries are the engine's.
		err = errors.Join(err, patchStatusOf(ctx, r.Client, before, obj, func(a *v1alpha1.Alert) any {
			return []any{a.Status.Conditions, a.Status.ObservedGeneration, a.Status.LastHandledReconcileAt}
		}))
	}()
	if obj.Spec.Suspend {
		conditions.MarkSuspended(obj)
		return ctrl.Result{}, nil
	}
	if _, err := notify.NewFilter(obj); err != nil {
		conditions.MarkStalled(obj, v1alpha1.ReasonInvalidSpec, err.Error())
		return ctrl.Result{}, nil
	}
	var p v1alpha1.Provider
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.ProviderRef.Name}
	if err := r.Get(ctx, key, &p); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		// The Provider watch reconciles again when it is created.
		conditions.MarkStalled(obj, v1alpha1.ReasonProviderNotFound,
			fmt.Sprintf("provider %s not found: create it, or fix spec.providerRef", key))
		return ctrl.Result{}, nil
	}
	severity := obj.Spec.EventSeverity
	if severity == "" {
		severity = v1alpha1.EventSeverityInfo
	}
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded,
		fmt.Sprintf("sending %s events of %d sources to Provider %s (%s)", severity, len(obj.Spec.EventSources), p.Name, p.Spec.Type))
	return ctrl.Result{}, nil
}
