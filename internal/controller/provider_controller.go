package controller

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// ProviderReconciler checks that a Provider can send: its Secrets exist
// with the keys its type needs. It sends nothing itself.
type ProviderReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=flotilla.io,resources=providers,verbs=get;list;watch
// +kubebuilder:rbac:groups=flotilla.io,resources=providers/status,verbs=get;update;patch

// SetupWithManager registers the reconciler; a change of a Secret the
// Provider reads reconciles it again.
func (r *ProviderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.Provider{}, secretRefsIndex, providerSecrets); err != nil {
		return err
	}
	return notifyController(mgr, &v1alpha1.Provider{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(requestsForSecret(r.Client, &v1alpha1.ProviderList{})), builder.OnlyMetadata).
		Complete(r)
}

func providerSecrets(o client.Object) []string {
	p := o.(*v1alpha1.Provider)
	var names []string
	for _, ref := range []*v1alpha1.LocalObjectReference{p.Spec.SecretRef, p.Spec.CertSecretRef} {
		if ref != nil {
			names = append(names, ref.Name)
		}
	}
	return names
}

// Reconcile checks one Provider.
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	_, err := reconcileOnce(ctx, r.Client, req.NamespacedName, &v1alpha1.Provider{}, providerStatus, r.check)
	return ctrl.Result{}, err
}

func providerStatus(p *v1alpha1.Provider) notifyStatus {
	return notifyStatus{&p.Status.ObservedGeneration, &p.Status.ReconcileRequestStatus, p.Status}
}

// check marks the Provider Ready when its Secrets hold what its type needs.
func (r *ProviderReconciler) check(ctx context.Context, obj *v1alpha1.Provider) {
	if obj.Spec.Suspend {
		conditions.MarkSuspended(obj)
		return
	}
	cfg, err := notify.LoadProviderConfig(ctx, r.Client, obj)
	if err == nil {
		_, err = notify.NewNotifier(cfg)
	}
	if err != nil {
		reason := v1alpha1.ReasonInvalidSpec
		if se := (*notify.SecretError)(nil); errors.As(err, &se) {
			reason = v1alpha1.ReasonSecretNotFound
		}
		// Only a change of the spec or of the Secret (both watched) can cure it.
		conditions.MarkStalled(obj, reason, err.Error())
		return
	}
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded, "ready to send to "+obj.Spec.Type)
}
