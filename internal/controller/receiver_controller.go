package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// Routes is where the Receiver reconciler publishes what the webhook
// server serves.
type Routes interface {
	Register(path string, route notify.Route)
	Remove(receiver types.NamespacedName)
}

// ReceiverReconciler reads a Receiver's token, computes its webhook path
// and hands both to the webhook server.
type ReceiverReconciler struct {
	client.Client
	// Routes is the webhook server.
	Routes Routes
}

// +kubebuilder:rbac:groups=flotilla.io,resources=receivers,verbs=get;list;watch
// +kubebuilder:rbac:groups=flotilla.io,resources=receivers/status,verbs=get;update;patch

// SetupWithManager registers the reconciler; a change of the Receiver's
// Secret reconciles it again (a new token is a new path).
func (r *ReceiverReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.Receiver{}, secretRefsIndex,
		func(o client.Object) []string { return []string{o.(*v1alpha1.Receiver).Spec.SecretRef.Name} })
	if err != nil {
		return err
	}
	return notifyController(mgr, &v1alpha1.Receiver{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(requestsForSecret(r.Client, &v1alpha1.ReceiverList{})), builder.OnlyMetadata).
		Complete(r)
}

// Reconcile publishes one Receiver's route, or removes it.
func (r *ReceiverReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	found, err := reconcileOnce(ctx, r.Client, req.NamespacedName, &v1alpha1.Receiver{}, receiverStatus, r.publish)
	if !found && err == nil {
		r.Routes.Remove(req.NamespacedName)
	}
	return ctrl.Result{}, err
}

func receiverStatus(o *v1alpha1.Receiver) notifyStatus {
	return notifyStatus{&o.Status.ObservedGeneration, &o.Status.ReconcileRequestStatus, o.Status}
}

// publish registers the Receiver's route, or removes it when the Receiver
// cannot be served.
func (r *ReceiverReconciler) publish(ctx context.Context, obj *v1alpha1.Receiver) {
	key := client.ObjectKeyFromObject(obj)
	if obj.Spec.Suspend || !obj.DeletionTimestamp.IsZero() {
		r.unpublish(obj)
		conditions.MarkSuspended(obj)
		return
	}
	if err := r.checkKinds(obj); err != nil {
		r.unpublish(obj)
		conditions.MarkStalled(obj, v1alpha1.ReasonInvalidSpec, err.Error())
		return
	}
	secret := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.SecretRef.Name}
	data, err := notify.ReadSecret(ctx, r.Client, secret)
	if err == nil && len(data["token"]) == 0 {
		err = &notify.SecretError{Secret: secret, Key: "token"}
	}
	if err != nil {
		r.unpublish(obj)
		conditions.MarkStalled(obj, v1alpha1.ReasonSecretNotFound, err.Error())
		return
	}
	path := notify.WebhookPath(string(data["token"]), obj.Name, obj.Namespace)
	r.Routes.Register(path, notify.Route{
		Receiver:  key,
		Verifier:  notify.Verifier{Type: obj.Spec.Type, Token: data["token"], AllowSHA1: obj.Spec.AllowSHA1},
		Events:    obj.Spec.Events,
		Resources: obj.Spec.Resources,
	})
	obj.Status.WebhookPath = path
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded, "receiving "+obj.Spec.Type+" webhooks at "+path)
}

// unpublish removes the Receiver's route and its status.webhookPath: a
// path that is not served must not be given to a sender.
func (r *ReceiverReconciler) unpublish(obj *v1alpha1.Receiver) {
	r.Routes.Remove(client.ObjectKeyFromObject(obj))
	obj.Status.WebhookPath = ""
}

// checkKinds refuses resources of kinds the agent does not know.
func (r *ReceiverReconciler) checkKinds(obj *v1alpha1.Receiver) error {
	for i, res := range obj.Spec.Resources {
		if !r.Scheme().Recognizes(v1alpha1.GroupVersion.WithKind(res.Kind)) {
			return fmt.Errorf("spec.resources[%d].kind %q is not a Flotilla kind (use GitRepository or Stack, for example)", i, res.Kind)
		}
	}
	return nil
}

// requestsForSecret maps a Secret to the objects of list's kind in its
// namespace that read it (indexed by secretRefsIndex).
func requestsForSecret(c client.Client, list client.ObjectList) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []ctrl.Request {
		l := list.DeepCopyObject().(client.ObjectList)
		if err := c.List(ctx, l, client.InNamespace(o.GetNamespace()), client.MatchingFields{secretRefsIndex: o.GetName()}); err != nil {
			return nil
		}
		var reqs []ctrl.Request
		_ = meta.EachListItem(l, func(item runtime.Object) error {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(item.(client.Object))})
			return nil
		})
		return reqs
	}
}
