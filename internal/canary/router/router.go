package router

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// Constructor makes the router of one provider. It need not make the
// Services: New wraps every router with them.
type Constructor func(c client.Client) canary.Router

var (
	mu           sync.RWMutex
	constructors = map[string]Constructor{
		v1alpha1.RouterKubernetes: NewKubernetes,
		v1alpha1.RouterGatewayAPI: func(c client.Client) canary.Router { return NewGatewayAPI(c, WithFieldManager(canary.FieldOwner)) },
	}
)

// Register makes New know provider (gatewayapi registers itself this way).
// Registering a name twice replaces the first.
func Register(provider string, ctor Constructor) {
	mu.Lock()
	defer mu.Unlock()
	constructors[provider] = ctor
}

// Providers lists the registered provider names, sorted.
func Providers() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the router of provider (empty is kubernetes), which also
// keeps the Canary's three Services. An unknown provider is a
// *canary.SpecError.
func New(provider string, c client.Client) (canary.Router, error) {
	provider = cmp.Or(provider, v1alpha1.RouterKubernetes)
	mu.RLock()
	ctor, ok := constructors[provider]
	mu.RUnlock()
	if !ok {
		return nil, &canary.SpecError{Field: "spec.provider", Reason: fmt.Sprintf(
			"router %q is not available in this agent (available: %v)", provider, Providers())}
	}
	return &withServices{Router: ctor(c), services: &Services{client: c}}, nil
}

// withServices makes the Services before the router's own objects.
type withServices struct {
	canary.Router
	services *Services
}

// Reconcile implements canary.Router.
func (r *withServices) Reconcile(ctx context.Context, c *v1alpha1.Canary) error {
	if err := r.services.Reconcile(ctx, c); err != nil {
		return err
	}
	return r.Router.Reconcile(ctx, c)
}
