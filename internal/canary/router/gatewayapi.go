package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// DefaultGatewayAPIFieldManager is the server-side apply field manager the
// gatewayapi router writes HTTPRoutes with.
const DefaultGatewayAPIFieldManager = "flotilla-canary"

// httpRouteGVK is the kind the router writes: the Gateway API's HTTPRoute, v1.
var httpRouteGVK = schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: gatewayv1.GroupVersion.Version, Kind: "HTTPRoute"}

// ErrNoHTTPRouteCRD says that the cluster has no Gateway API HTTPRoute
// kind: its CRDs (standard channel) are not installed.
var ErrNoHTTPRouteCRD = errors.New("the HTTPRoute kind (gateway.networking.k8s.io/v1) is not served: install the Gateway API CRDs, or use provider kubernetes")

// ErrHTTPRouteNotFound says that a Canary's HTTPRoute does not exist yet:
// Reconcile creates it.
var ErrHTTPRouteNotFound = errors.New("HTTPRoute not found: the router creates it when the Canary initializes")

// ErrNoWeightedRule says that a Canary's HTTPRoute has no rule sending
// traffic to both <name>-primary and <name>-canary, so no weight can be read
// (a person or another tool rewrote the route).
var ErrNoWeightedRule = errors.New("no rule of the HTTPRoute has both the primary and the canary Service as backends")

// HTTPRouteError is a failure of the gatewayapi router, naming the
// HTTPRoute and the operation.
type HTTPRouteError struct {
	// Route is the HTTPRoute's namespace/name.
	Route types.NamespacedName
	// Op is what the router was doing: reading, applying, setting weights.
	Op string
	// Err is the cause.
	Err error
}

func (e *HTTPRouteError) Error() string {
	return fmt.Sprintf("%s HTTPRoute %s: %v", e.Op, e.Route, e.Err)
}

func (e *HTTPRouteError) Unwrap() error { return e.Err }

// GatewayAPI is the router of provider gatewayapi: an HTTPRoute named after
// the Canary's apex Service splits traffic between the Services
// <name>-primary and <name>-canary by the weights of its backendRefs.
//
// The route has the Canary's service.gatewayRefs as parentRefs,
// service.hosts as hostnames and, on every rule it writes, service.match as
// matches and service.timeout as the request timeout. Without analysis.match
// it has one rule with the two weighted backends. With analysis.match (A/B
// testing) the weighted rule matches analysis.match (each combined with
// service.match) and a second rule sends every other request to the primary
// only, as Flagger's router does; the state machine then sets 0/100 on the
// weighted rule during the analysis and 100/0 after it.
//
// Everything else on the route is the user's and stays: labels,
// annotations, and the rules that route to neither Service. On its rules
// the router keeps the rule name, filters, retry, session persistence and
// the backend request timeout, since Gateway API's rules are an atomic list
// that server-side apply replaces whole; the request timeout is the
// Canary's (none when service.timeout is empty). The route is written with
// server-side apply under one field manager and is owned by the Canary.
type GatewayAPI struct {
	client       client.Client
	fieldManager string
}

var _ canary.Router = (*GatewayAPI)(nil)

// GatewayAPIOption configures a GatewayAPI router.
type GatewayAPIOption func(*GatewayAPI)

// WithFieldManager sets the server-side apply field manager
// (DefaultGatewayAPIFieldManager otherwise).
func WithFieldManager(name string) GatewayAPIOption {
	return func(g *GatewayAPI) { g.fieldManager = name }
}

// NewGatewayAPI returns the router of provider gatewayapi. It reads and
// writes HTTPRoutes as unstructured objects through c, so c's scheme needs
// no Gateway API types and a manager's client reads them live, with no
// informer.
func NewGatewayAPI(c client.Client, opts ...GatewayAPIOption) canary.Router {
	g := &GatewayAPI{client: c, fieldManager: DefaultGatewayAPIFieldManager}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Reconcile creates or updates c's HTTPRoute. A new route sends all traffic
// to the primary; an existing one keeps the weights in effect.
func (g *GatewayAPI) Reconcile(ctx context.Context, c *v1alpha1.Canary) error {
	current, err := g.get(ctx, c)
	if err != nil && !errors.Is(err, ErrHTTPRouteNotFound) {
		return err
	}
	w := weights{primary: 100}
	if current != nil {
		if found, ok := currentWeights(current, newBackends(c)); ok {
			w = found
		}
	}
	return g.apply(ctx, c, current, w, "applying")
}

// SetRoutes sets the weights of c's HTTPRoute, in percent.
func (g *GatewayAPI) SetRoutes(ctx context.Context, c *v1alpha1.Canary, primary, canaryWeight int) error {
	if primary < 0 || canaryWeight < 0 || primary+canaryWeight != 100 {
		return &HTTPRouteError{Route: routeKey(c), Op: "setting weights of",
			Err: fmt.Errorf("weights %d/%d: each must be 0-100 and they must add up to 100", primary, canaryWeight)}
	}
	current, err := g.get(ctx, c)
	if err != nil {
		return err
	}
	return g.apply(ctx, c, current, weights{primary: primary, canary: canaryWeight}, "setting weights of")
}

// GetRoutes reads the weights in effect on c's HTTPRoute, in percent.
func (g *GatewayAPI) GetRoutes(ctx context.Context, c *v1alpha1.Canary) (primary, canaryWeight int, err error) {
	route, err := g.get(ctx, c)
	if err != nil {
		return 0, 0, err
	}
	w, ok := currentWeights(route, newBackends(c))
	if !ok {
		return 0, 0, &HTTPRouteError{Route: routeKey(c), Op: "reading weights of", Err: ErrNoWeightedRule}
	}
	return w.primary, w.canary, nil
}

// get reads c's HTTPRoute live; ErrHTTPRouteNotFound when there is none.
func (g *GatewayAPI) get(ctx context.Context, c *v1alpha1.Canary) (*gatewayv1.HTTPRoute, error) {
	key := routeKey(c)
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(httpRouteGVK)
	if err := g.client.Get(ctx, key, u); err != nil {
		if apierrors.IsNotFound(err) {
			err = ErrHTTPRouteNotFound
		}
		return nil, &HTTPRouteError{Route: key, Op: "reading", Err: classify(err)}
	}
	route := &gatewayv1.HTTPRoute{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, route); err != nil {
		return nil, &HTTPRouteError{Route: key, Op: "decoding", Err: err}
	}
	return route, nil
}

// apply writes the route c wants with weights w, keeping what the user
// added to current (nil when there is no route yet).
func (g *GatewayAPI) apply(ctx context.Context, c *v1alpha1.Canary, current *gatewayv1.HTTPRoute, w weights, op string) error {
	key := routeKey(c)
	obj, err := desiredRoute(c, current, w)
	if err != nil {
		return &HTTPRouteError{Route: key, Op: op, Err: err}
	}
	err = g.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.FieldOwner(g.fieldManager), client.ForceOwnership)
	if err != nil {
		return &HTTPRouteError{Route: key, Op: op, Err: classify(err)}
	}
	return nil
}

// classify says ErrNoHTTPRouteCRD when the cluster has no HTTPRoute kind.
func classify(err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("%w (%v)", ErrNoHTTPRouteCRD, err)
	}
	return err
}

// desiredRoute is the HTTPRoute object to apply: metadata with the owner
// reference, and the spec of desiredSpec.
func desiredRoute(c *v1alpha1.Canary, current *gatewayv1.HTTPRoute, w weights) (*unstructured.Unstructured, error) {
	if c.UID == "" {
		return nil, errors.New("the Canary has no UID (it must be read from the API server) to own the route")
	}
	spec, err := toMap(desiredSpec(c, current, w))
	if err != nil {
		return nil, err
	}
	key := routeKey(c)
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(httpRouteGVK)
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	u.SetOwnerReferences([]metav1.OwnerReference{*metav1.NewControllerRef(c, v1alpha1.GroupVersion.WithKind(v1alpha1.CanaryKind))})
	return u, nil
}

// toMap turns a typed value into the map an unstructured object holds,
// through its JSON form (which leaves out the fields it does not set).
func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	return m, json.Unmarshal(raw, &m)
}

// routeKey is the namespace/name of c's HTTPRoute: the apex Service's name.
func routeKey(c *v1alpha1.Canary) types.NamespacedName {
	return types.NamespacedName{Namespace: c.Namespace, Name: apexName(c)}
}

// apexName is the name of c's apex Service: service.name, or the target's.
func apexName(c *v1alpha1.Canary) string {
	if c.Spec.Service.Name != "" {
		return c.Spec.Service.Name
	}
	return c.Spec.TargetRef.Name
}
