package canary

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// syncAutoscaler makes <autoscaler>-primary, a copy of the target's
// HorizontalPodAutoscaler (spec.autoscalerRef) that scales the primary, or
// brings its spec up to the target's. No autoscalerRef, nothing to do.
func (d *Deployments) syncAutoscaler(ctx context.Context, c *v1alpha1.Canary) error {
	ref := c.Spec.AutoscalerRef
	if ref == nil {
		return nil
	}
	var src autoscalingv2.HorizontalPodAutoscaler
	key := types.NamespacedName{Namespace: c.Namespace, Name: ref.Name}
	if err := d.client.Get(ctx, key, &src); err != nil {
		return fmt.Errorf("reading HorizontalPodAutoscaler %s (spec.autoscalerRef): %w", key, err)
	}
	spec := *src.Spec.DeepCopy()
	spec.ScaleTargetRef.Name = PrimaryName(c)
	var cur autoscalingv2.HorizontalPodAutoscaler
	err := d.client.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: ref.Name + "-primary"}, &cur)
	if apierrors.IsNotFound(err) {
		hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: ref.Name + "-primary"}, Spec: spec}
		if err := controllerutil.SetControllerReference(c, hpa, d.client.Scheme()); err != nil {
			return err
		}
		return client.IgnoreAlreadyExists(d.client.Create(ctx, hpa, client.FieldOwner(FieldOwner)))
	}
	if err != nil {
		return fmt.Errorf("reading HorizontalPodAutoscaler %s-primary: %w", key, err)
	}
	cur.Spec = spec
	if err := d.client.Update(ctx, &cur, client.FieldOwner(FieldOwner)); err != nil {
		return fmt.Errorf("updating HorizontalPodAutoscaler %s-primary: %w", key, err)
	}
	return nil
}
