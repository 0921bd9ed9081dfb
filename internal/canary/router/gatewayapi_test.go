package router_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/router"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gatewayapi"
)

// TestGatewayAPIRouter runs the gatewayapi router against a real
// kube-apiserver with the Gateway API CRDs (standard channel): what it
// writes is what the API server validated, defaulted and stored.
func TestGatewayAPIRouter(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	env := controlplane.StartForTest(t)
	ctx := context.Background()

	t.Run("without the Gateway API CRDs the router says to install them", func(t *testing.T) {
		r := router.NewGatewayAPI(env.Client)
		err := r.Reconcile(ctx, newCanary(t, env.Client, "no-crds", nil))
		if !errors.Is(err, router.ErrNoHTTPRouteCRD) {
			t.Fatalf("Reconcile = %v, want ErrNoHTTPRouteCRD", err)
		}
	})

	if err := gatewayapi.InstallCRDs(env.Config); err != nil {
		t.Fatal(err)
	}
	c, err := gatewayapi.NewClient(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	r := router.NewGatewayAPI(c)

	t.Run("Reconcile creates the route with all traffic on the primary", func(t *testing.T) {
		cn := newCanary(t, c, "create", func(cn *v1alpha1.Canary) {
			cn.Spec.Service.GatewayRefs = []v1alpha1.GatewayRef{{Name: "public", Namespace: "gateways", SectionName: "http"}}
			cn.Spec.Service.Hosts = []string{"app.example.com"}
			cn.Spec.Service.Timeout = "15s"
			cn.Spec.Service.Match = []v1alpha1.HTTPMatch{{Path: &v1alpha1.HTTPPathMatch{Type: "PathPrefix", Value: "/api"}}}
		})
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		route := getRoute(t, c, cn)
		want := gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
				Group: ptr.To(gatewayv1.Group(gatewayv1.GroupName)), Kind: ptr.To(gatewayv1.Kind("Gateway")),
				Namespace: ptr.To(gatewayv1.Namespace("gateways")), Name: "public", SectionName: ptr.To(gatewayv1.SectionName("http")),
			}}},
			Hostnames: []gatewayv1.Hostname{"app.example.com"},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches:     []gatewayv1.HTTPRouteMatch{pathPrefix("/api")},
				BackendRefs: []gatewayv1.HTTPBackendRef{backend("app-primary", 100), backend("app-canary", 0)},
				Timeouts:    &gatewayv1.HTTPRouteTimeouts{Request: ptr.To(gatewayv1.Duration("15s"))},
			}},
		}
		if diff := cmp.Diff(want, route.Spec); diff != "" {
			t.Errorf("route spec (-want +got):\n%s", diff)
		}
		owner := metav1.GetControllerOf(route)
		if owner == nil || owner.UID != cn.UID || owner.Kind != v1alpha1.CanaryKind {
			t.Errorf("controller of the route = %+v, want the Canary %s", owner, cn.UID)
		}
		wantWeights(t, r, cn, 100, 0)
	})

	t.Run("SetRoutes and GetRoutes round trip, and Reconcile keeps the weights", func(t *testing.T) {
		cn := newCanary(t, c, "weights", nil)
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		for _, w := range [][2]int{{80, 20}, {50, 50}, {0, 100}, {90, 10}} {
			if err := r.SetRoutes(ctx, cn, w[0], w[1]); err != nil {
				t.Fatal(err)
			}
			wantWeights(t, r, cn, w[0], w[1])
		}
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		wantWeights(t, r, cn, 90, 10)
	})

	t.Run("SetRoutes refuses weights that do not add up to 100", func(t *testing.T) {
		cn := newCanary(t, c, "bad-weights", nil)
		for _, w := range [][2]int{{80, 30}, {-10, 110}, {0, 0}} {
			err := r.SetRoutes(ctx, cn, w[0], w[1])
			var re *router.HTTPRouteError
			if !errors.As(err, &re) || re.Route.Name != "app" {
				t.Errorf("SetRoutes(%d, %d) = %v, want an HTTPRouteError naming the route", w[0], w[1], err)
			}
		}
	})

	t.Run("GetRoutes before Reconcile says the route is missing", func(t *testing.T) {
		cn := newCanary(t, c, "missing", nil)
		if _, _, err := r.GetRoutes(ctx, cn); !errors.Is(err, router.ErrHTTPRouteNotFound) {
			t.Errorf("GetRoutes = %v, want ErrHTTPRouteNotFound", err)
		}
		if err := r.SetRoutes(ctx, cn, 50, 50); !errors.Is(err, router.ErrHTTPRouteNotFound) {
			t.Errorf("SetRoutes = %v, want ErrHTTPRouteNotFound", err)
		}
	})

	t.Run("the user's fields stay through Reconcile and SetRoutes", func(t *testing.T) {
		testUserFieldsKept(ctx, t, c, r)
	})

	t.Run("analysis.match adds an A/B rule; other requests go to the primary", func(t *testing.T) {
		testABMatch(ctx, t, c, r)
	})

	t.Run("service.name names the route and its backends", func(t *testing.T) {
		cn := newCanary(t, c, "named", func(cn *v1alpha1.Canary) { cn.Spec.Service.Name = "web" })
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		route := getRoute(t, c, cn)
		got := route.Spec.Rules[0].BackendRefs
		if route.Name != "web" || string(got[0].Name) != "web-primary" || string(got[1].Name) != "web-canary" {
			t.Errorf("route %s with backends %s, %s; want web with web-primary, web-canary", route.Name, got[0].Name, got[1].Name)
		}
	})
}

// testUserFieldsKept edits the route as a person would (another field
// manager): a label, an annotation, a filter and a backend request timeout
// on the router's rule, and a rule of their own; the router's writes keep
// all of them, and its request timeout follows the Canary's.
func testUserFieldsKept(ctx context.Context, t *testing.T, c client.Client, r canary.Router) {
	cn := newCanary(t, c, "user-fields", func(cn *v1alpha1.Canary) { cn.Spec.Service.Timeout = "15s" })
	if err := r.Reconcile(ctx, cn); err != nil {
		t.Fatal(err)
	}
	route := getRoute(t, c, cn)
	route.Labels = map[string]string{"team": "payments"}
	route.Annotations = map[string]string{"example.com/owner": "alice"}
	filter := gatewayv1.HTTPRouteFilter{
		Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{
			Set: []gatewayv1.HTTPHeader{{Name: "X-Through", Value: "gateway"}},
		},
	}
	route.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{filter}
	route.Spec.Rules[0].Timeouts.BackendRequest = ptr.To(gatewayv1.Duration("5s"))
	extra := gatewayv1.HTTPRouteRule{
		Matches:     []gatewayv1.HTTPRouteMatch{pathPrefix("/admin")},
		BackendRefs: []gatewayv1.HTTPBackendRef{backend("admin", 1)},
	}
	route.Spec.Rules = append(route.Spec.Rules, extra)
	if err := c.Update(ctx, route, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}

	if err := r.SetRoutes(ctx, cn, 70, 30); err != nil {
		t.Fatal(err)
	}
	if err := r.Reconcile(ctx, cn); err != nil {
		t.Fatal(err)
	}
	got := getRoute(t, c, cn)
	if got.Labels["team"] != "payments" || got.Annotations["example.com/owner"] != "alice" {
		t.Errorf("labels %v, annotations %v: the user's are gone", got.Labels, got.Annotations)
	}
	if len(got.Spec.Rules) != 2 {
		t.Fatalf("rules = %d, want the router's and the user's: %+v", len(got.Spec.Rules), got.Spec.Rules)
	}
	if diff := cmp.Diff([]gatewayv1.HTTPRouteFilter{filter}, got.Spec.Rules[0].Filters); diff != "" {
		t.Errorf("filters of the router's rule (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(extra, got.Spec.Rules[1]); diff != "" {
		t.Errorf("the user's rule (-want +got):\n%s", diff)
	}
	wantTimeouts(t, got, &gatewayv1.HTTPRouteTimeouts{Request: ptr.To(gatewayv1.Duration("15s")), BackendRequest: ptr.To(gatewayv1.Duration("5s"))})
	wantWeights(t, r, cn, 70, 30)

	cn.Spec.Service.Timeout = ""
	if err := r.Reconcile(ctx, cn); err != nil {
		t.Fatal(err)
	}
	wantTimeouts(t, getRoute(t, c, cn), &gatewayv1.HTTPRouteTimeouts{BackendRequest: ptr.To(gatewayv1.Duration("5s"))})
}

// wantTimeouts checks the timeouts of the route's first rule.
func wantTimeouts(t *testing.T, route *gatewayv1.HTTPRoute, want *gatewayv1.HTTPRouteTimeouts) {
	t.Helper()
	if diff := cmp.Diff(want, route.Spec.Rules[0].Timeouts); diff != "" {
		t.Errorf("timeouts of the router's rule (-want +got):\n%s", diff)
	}
}

// testABMatch checks the two rules of an A/B Canary: the weighted one
// matches analysis.match combined with service.match, the other sends the
// rest to the primary, and SetRoutes moves only the first.
func testABMatch(ctx context.Context, t *testing.T, c client.Client, r canary.Router) {
	cn := newCanary(t, c, "ab", func(cn *v1alpha1.Canary) {
		cn.Spec.Service.Match = []v1alpha1.HTTPMatch{{Path: &v1alpha1.HTTPPathMatch{Type: "PathPrefix", Value: "/shop"}}}
		cn.Spec.Analysis.Match = []v1alpha1.HTTPMatch{
			{Headers: []v1alpha1.HTTPHeaderMatch{{Name: "x-canary", Value: "insider"}}},
			{Headers: []v1alpha1.HTTPHeaderMatch{{Type: "RegularExpression", Name: "cookie", Value: ".*canary=always.*"}}},
		}
	})
	if err := r.Reconcile(ctx, cn); err != nil {
		t.Fatal(err)
	}
	if err := r.SetRoutes(ctx, cn, 0, 100); err != nil {
		t.Fatal(err)
	}
	route := getRoute(t, c, cn)
	exact, regex := gatewayv1.HeaderMatchExact, gatewayv1.HeaderMatchRegularExpression
	shop := pathPrefix("/shop")
	want := []gatewayv1.HTTPRouteRule{
		{
			Matches: []gatewayv1.HTTPRouteMatch{
				{Path: shop.Path, Headers: []gatewayv1.HTTPHeaderMatch{{Type: &exact, Name: "x-canary", Value: "insider"}}},
				{Path: shop.Path, Headers: []gatewayv1.HTTPHeaderMatch{{Type: &regex, Name: "cookie", Value: ".*canary=always.*"}}},
			},
			BackendRefs: []gatewayv1.HTTPBackendRef{backend("app-primary", 0), backend("app-canary", 100)},
		},
		{
			Matches:     []gatewayv1.HTTPRouteMatch{shop},
			BackendRefs: []gatewayv1.HTTPBackendRef{backend("app-primary", 1)},
		},
	}
	if diff := cmp.Diff(want, route.Spec.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	wantWeights(t, r, cn, 0, 100)
}

// newCanary creates a Canary of target app, port 80, in a namespace of its
// own (named after what), changed by edit when not nil.
func newCanary(t *testing.T, c client.Client, what string, edit func(*v1alpha1.Canary)) *v1alpha1.Canary {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gatewayapi-%s", what)}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	cn := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "app"},
		Spec: v1alpha1.CanarySpec{
			Provider:  v1alpha1.RouterGatewayAPI,
			TargetRef: v1alpha1.CanaryTargetRef{Name: "app"},
			Service:   v1alpha1.CanaryService{Port: 80},
		},
	}
	if edit != nil {
		edit(cn)
	}
	if err := c.Create(ctx, cn); err != nil {
		t.Fatal(err)
	}
	return cn
}

func getRoute(t *testing.T, c client.Client, cn *v1alpha1.Canary) *gatewayv1.HTTPRoute {
	t.Helper()
	name := cn.Spec.Service.Name
	if name == "" {
		name = cn.Spec.TargetRef.Name
	}
	var route gatewayv1.HTTPRoute
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: cn.Namespace, Name: name}, &route); err != nil {
		t.Fatal(err)
	}
	return &route
}

func wantWeights(t *testing.T, r canary.Router, cn *v1alpha1.Canary, primary, canaryWeight int) {
	t.Helper()
	p, c, err := r.GetRoutes(context.Background(), cn)
	if err != nil || p != primary || c != canaryWeight {
		t.Errorf("GetRoutes = %d/%d, %v; want %d/%d", p, c, err, primary, canaryWeight)
	}
}

// pathPrefix is a match on a path prefix, as the API server stores it.
func pathPrefix(p string) gatewayv1.HTTPRouteMatch {
	return gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: ptr.To(p)}}
}

// backend is a backendRef to a Service on port 80 with weight, as the API
// server stores it (it defaults a missing weight to 1).
func backend(name string, weight int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{
			Group: ptr.To(gatewayv1.Group("")), Kind: ptr.To(gatewayv1.Kind("Service")),
			Name: gatewayv1.ObjectName(name), Port: ptr.To(gatewayv1.PortNumber(80)),
		},
		Weight: ptr.To(weight),
	}}
}
