package router

import (
	"cmp"
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// Services keeps a Canary's three Services: <apex> (what clients call; it
// selects the primary's pods unless the router moved it), <apex>-primary
// and <apex>-canary. Each is owned by the Canary.
type Services struct {
	client client.Client
}

// NewServices returns the Services maker acting through c.
func NewServices(c client.Client) *Services { return &Services{client: c} }

// Selectors returns the pod selectors of the primary and of the canary,
// from the target Deployment's app label.
func Selectors(ctx context.Context, c client.Reader, cn *v1alpha1.Canary) (primary, canaryPods map[string]string, err error) {
	var t appsv1.Deployment
	key := types.NamespacedName{Namespace: cn.Namespace, Name: cn.Spec.TargetRef.Name}
	if err := c.Get(ctx, key, &t); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, &canary.TargetNotFoundError{Canary: cn.Namespace + "/" + cn.Name, Target: key.String()}
		}
		return nil, nil, fmt.Errorf("reading target Deployment %s: %w", key, err)
	}
	k, v, err := canary.SelectorLabel(&t)
	if err != nil {
		return nil, nil, err
	}
	return map[string]string{k: v + "-primary"}, map[string]string{k: v}, nil
}

// Reconcile creates or updates the three Services. The apex keeps its
// selector when it selects the primary or the canary already (the router
// owns that choice); otherwise it selects the primary.
func (s *Services) Reconcile(ctx context.Context, c *v1alpha1.Canary) error {
	primary, canaryPods, err := Selectors(ctx, s.client, c)
	if err != nil {
		return err
	}
	for _, svc := range []struct {
		name     string
		selector map[string]string
		apex     bool
	}{
		{canary.ApexName(c), primary, true},
		{canary.PrimaryServiceName(c), primary, false},
		{canary.CanaryServiceName(c), canaryPods, false},
	} {
		if err := s.ensure(ctx, c, svc.name, svc.selector, svc.apex, canaryPods); err != nil {
			return err
		}
	}
	return nil
}

// ensure creates or updates one Service. A Service of that name the Canary
// does not own is refused: the Canary makes it (remove it from the
// manifests, as with Flagger).
func (s *Services) ensure(ctx context.Context, c *v1alpha1.Canary, name string, selector map[string]string, apex bool, canaryPods map[string]string) error {
	var cur corev1.Service
	err := s.client.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: name}, &cur)
	if apierrors.IsNotFound(err) {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace}}
		svc.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: selector, Ports: ports(c)}
		if err := controllerutil.SetControllerReference(c, svc, s.client.Scheme()); err != nil {
			return err
		}
		if err := s.client.Create(ctx, svc, client.FieldOwner(canary.FieldOwner)); err != nil {
			return fmt.Errorf("creating Service %s/%s: %w", c.Namespace, name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading Service %s/%s: %w", c.Namespace, name, err)
	}
	if !metav1.IsControlledBy(&cur, c) {
		return &canary.SpecError{Field: "spec.service", Reason: fmt.Sprintf(
			"Service %s/%s exists and is not owned by this Canary: the Canary makes it, so remove it from your manifests (as with Flagger)", c.Namespace, name)}
	}
	want := cur.DeepCopy()
	want.Spec.Ports = mergePorts(cur.Spec.Ports, ports(c))
	if !apex || !(equality.Semantic.DeepEqual(cur.Spec.Selector, selector) || equality.Semantic.DeepEqual(cur.Spec.Selector, canaryPods)) {
		want.Spec.Selector = selector
	}
	if equality.Semantic.DeepEqual(cur.Spec, want.Spec) {
		return nil
	}
	if err := s.client.Update(ctx, want, client.FieldOwner(canary.FieldOwner)); err != nil {
		return fmt.Errorf("updating Service %s/%s: %w", c.Namespace, name, err)
	}
	return nil
}

// ports is the Services' one port: spec.service.port, portName (http) and
// targetPort (the port).
func ports(c *v1alpha1.Canary) []corev1.ServicePort {
	sp := c.Spec.Service
	target := intstr.FromInt32(sp.Port)
	if sp.TargetPort != nil {
		target = *sp.TargetPort
	}
	return []corev1.ServicePort{{Name: cmp.Or(sp.PortName, "http"), Port: sp.Port, TargetPort: target, Protocol: corev1.ProtocolTCP}}
}

// mergePorts keeps what the API server defaulted (nodePort, appProtocol)
// when the port is otherwise the same.
func mergePorts(cur, want []corev1.ServicePort) []corev1.ServicePort {
	if len(cur) == len(want) {
		same := true
		for i := range cur {
			c, w := cur[i], want[i]
			same = same && c.Name == w.Name && c.Port == w.Port && c.TargetPort == w.TargetPort && c.Protocol == w.Protocol
		}
		if same {
			return cur
		}
	}
	return want
}
