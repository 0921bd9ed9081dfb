package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// AlertReconciler checks an Alert's spec and Provider. Matching events and
// sending messages is the notify engine's work, not a reconcile's.
type AlertReconciler struct {
	client.Client
	// NoCrossNamespaceRefs refuses event sources in other namespaces.
	NoCrossNamespaceRefs bool
}

// +kubebuilder:rbac:groups=flotilla.io,resources=alerts,verbs=get;list;watch
// +kubebuilder:rbac:groups=flotilla.io,resources=alerts/status,verbs=get;update;patch

// SetupWithManager registers the reconciler; a change of a Provider
// reconciles the Alerts of its namespace.
func (r *AlertReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return notifyController(mgr, &v1alpha1.Alert{}).
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
func (r *AlertReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	_, err := reconcileOnce(ctx, r.Client, req.NamespacedName, &v1alpha1.Alert{}, alertStatus, r.check)
	return ctrl.Result{}, err
}

// alertStatus compares only conditions: episodes and deliveries are the engine's.
func alertStatus(a *v1alpha1.Alert) notifyStatus {
	return notifyStatus{&a.Status.ObservedGeneration, &a.Status.ReconcileRequestStatus,
		[]any{a.Status.Conditions, a.Status.ObservedGeneration, a.Status.LastHandledReconcileAt}}
}

// check marks the Alert Ready, or Stalled on what only a change can cure.
func (r *AlertReconciler) check(ctx context.Context, obj *v1alpha1.Alert) {
	if obj.Spec.Suspend {
		conditions.MarkSuspended(obj)
		return
	}
	if _, err := notify.NewFilter(obj); err != nil {
		conditions.MarkStalled(obj, v1alpha1.ReasonInvalidSpec, err.Error())
		return
	}
	if msg := r.crossNamespaceSource(obj); msg != "" {
		conditions.MarkStalled(obj, v1alpha1.ReasonAccessDenied, msg)
		return
	}
	var p v1alpha1.Provider
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.ProviderRef.Name}
	if err := r.Get(ctx, key, &p); err != nil {
		// The Provider watch reconciles again when it is created or readable.
		msg := fmt.Sprintf("provider %s not found: create it, or fix spec.providerRef", key)
		if !apierrors.IsNotFound(err) {
			msg = fmt.Sprintf("reading provider %s: %v", key, err)
		}
		conditions.MarkStalled(obj, v1alpha1.ReasonProviderNotFound, msg)
		return
	}
	if p.Spec.Suspend {
		// Not Stalled: the Provider watch reconciles again when it resumes.
		conditions.MarkFailed(obj, v1alpha1.ReasonSuspended,
			fmt.Sprintf("provider %s is suspended: events this Alert matches are dropped, not sent, until spec.suspend of the Provider is false", key))
		return
	}
	severity := obj.Spec.EventSeverity
	if severity == "" {
		severity = v1alpha1.EventSeverityInfo
	}
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded,
		fmt.Sprintf("sending %s events of %d sources to Provider %s (%s)", severity, len(obj.Spec.EventSources), p.Name, p.Spec.Type))
}

// crossNamespaceSource names the first event source outside the Alert's
// namespace when the agent refuses them, or returns "".
func (r *AlertReconciler) crossNamespaceSource(obj *v1alpha1.Alert) string {
	if !r.NoCrossNamespaceRefs {
		return ""
	}
	for i, s := range obj.Spec.EventSources {
		if s.Namespace != "" && s.Namespace != obj.Namespace {
			return fmt.Sprintf("spec.eventSources[%d] is in namespace %s: this agent refuses references across namespaces (--no-cross-namespace-refs); an Alert hears only the events of %s", i, s.Namespace, obj.Namespace)
		}
	}
	return ""
}
