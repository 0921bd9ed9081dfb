package gatewayapi

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Scheme has the Kubernetes types, Flotilla's and Gateway API's v1.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, gatewayv1.Install} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewClient returns a client of cfg's API server that knows Scheme's types.
func NewClient(cfg *rest.Config) (client.Client, error) {
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: s})
}

// GatewayClass is a GatewayClass that Traefik serves.
func GatewayClass(name string) *gatewayv1.GatewayClass {
	return &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: ControllerName},
	}
}

// Gateway is a Gateway of class className with one HTTP listener, named
// http, on t's web entrypoint, accepting routes from its own namespace.
func (t *Traefik) Gateway(namespace, name, className string) *gatewayv1.Gateway {
	return &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: gatewayv1.ObjectName(className),
			Listeners: []gatewayv1.Listener{{
				Name:     "http",
				Protocol: gatewayv1.HTTPProtocolType,
				Port:     gatewayv1.PortNumber(t.WebPort),
			}},
		},
	}
}

// WaitProgrammed waits until the Gateway key has condition Programmed
// True for its current generation, as Traefik writes it.
func WaitProgrammed(ctx context.Context, c client.Client, key types.NamespacedName, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		var gw gatewayv1.Gateway
		if err := c.Get(ctx, key, &gw); err == nil {
			cond := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
			if cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == gw.Generation {
				return nil
			}
			last = fmt.Sprintf("conditions %v", gw.Status.Conditions)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway %s not Programmed (%s): %w", key, last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
