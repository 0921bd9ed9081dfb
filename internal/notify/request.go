package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// AnnotationRequester asks for reconciles the way `flotilla reconcile`
// does: it sets the reconcile-requested-at annotation to a fresh value.
type AnnotationRequester struct {
	Client client.Client
	// Now stamps the annotation; nil is time.Now.
	Now func() time.Time
}

var _ Requester = (*AnnotationRequester)(nil)

// RequestReconcile annotates the object res names, or every object of the
// kind that matches its labels when the name is *.
func (a *AnnotationRequester) RequestReconcile(ctx context.Context, receiverNamespace string, res v1alpha1.EventSourceReference) error {
	ns := res.Namespace
	if ns == "" {
		ns = receiverNamespace
	}
	gvk := v1alpha1.GroupVersion.WithKind(res.Kind)
	if res.Name != "*" {
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(gvk)
		obj.SetNamespace(ns)
		obj.SetName(res.Name)
		return a.annotate(ctx, obj)
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(res.Kind + "List"))
	if err := a.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels(res.MatchLabels)); err != nil {
		return fmt.Errorf("listing %s in %s: %w", res.Kind, ns, err)
	}
	var errs []error
	for i := range list.Items {
		obj := &list.Items[i]
		obj.SetGroupVersionKind(gvk)
		errs = append(errs, a.annotate(ctx, obj))
	}
	return errors.Join(errs...)
}

func (a *AnnotationRequester) annotate(ctx context.Context, obj *metav1.PartialObjectMetadata) error {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if err := a.Client.Patch(ctx, obj, v1alpha1.ReconcileRequestPatch(v1alpha1.ReconcileRequestValue(now()))); err != nil {
		return fmt.Errorf("requesting a reconcile of %s %s/%s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
