package router

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// Kubernetes is the blue/green router: no weights, only Service selectors.
// The apex Service selects the primary's pods (100/0) or, when asked for
// all the traffic on the canary, the canary's (0/100); any split in
// between keeps the primary. During an analysis the canary is reached
// through <apex>-canary.
type Kubernetes struct {
	client client.Client
}

var _ canary.Router = (*Kubernetes)(nil)

// NewKubernetes returns the kubernetes router acting through c.
func NewKubernetes(c client.Client) canary.Router { return &Kubernetes{client: c} }

// Reconcile implements canary.Router: the Services are all there is.
func (k *Kubernetes) Reconcile(context.Context, *v1alpha1.Canary) error { return nil }

// SetRoutes implements canary.Router by pointing the apex Service at the
// side that takes all the traffic.
func (k *Kubernetes) SetRoutes(ctx context.Context, c *v1alpha1.Canary, primary, canaryWeight int) error {
	if primary+canaryWeight != 100 || primary < 0 || canaryWeight < 0 {
		return fmt.Errorf("canary %s/%s: weights %d/%d do not add up to 100", c.Namespace, c.Name, primary, canaryWeight)
	}
	primarySel, canarySel, err := Selectors(ctx, k.client, c)
	if err != nil {
		return err
	}
	want := primarySel
	if canaryWeight == 100 {
		want = canarySel
	}
	var svc corev1.Service
	key := types.NamespacedName{Namespace: c.Namespace, Name: canary.ApexName(c)}
	if err := k.client.Get(ctx, key, &svc); err != nil {
		return fmt.Errorf("reading Service %s: %w", key, err)
	}
	if equality.Semantic.DeepEqual(svc.Spec.Selector, want) {
		return nil
	}
	svc.Spec.Selector = want
	if err := k.client.Update(ctx, &svc, client.FieldOwner(canary.FieldOwner)); err != nil {
		return fmt.Errorf("routing Service %s to %v: %w", key, want, err)
	}
	return nil
}

// GetRoutes implements canary.Router from the apex Service's selector.
func (k *Kubernetes) GetRoutes(ctx context.Context, c *v1alpha1.Canary) (int, int, error) {
	_, canarySel, err := Selectors(ctx, k.client, c)
	if err != nil {
		return 0, 0, err
	}
	var svc corev1.Service
	key := types.NamespacedName{Namespace: c.Namespace, Name: canary.ApexName(c)}
	if err := k.client.Get(ctx, key, &svc); err != nil {
		return 0, 0, fmt.Errorf("reading Service %s: %w", key, err)
	}
	if equality.Semantic.DeepEqual(svc.Spec.Selector, canarySel) {
		return 0, 100, nil
	}
	return 100, 0, nil
}
