package router_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary/router"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gatewayapi"
)

// TestGatewayAPIRouterEdges runs the gatewayapi router against a real
// kube-apiserver with the Gateway API CRDs through what happens to a
// route after it is made: a hand edit that drops a backend, a Canary
// whose hosts and gateways change, header matches, a second Canary in
// another namespace, and the field manager the writes are made as.
func TestGatewayAPIRouterEdges(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	env := controlplane.StartForTest(t)
	if err := gatewayapi.InstallCRDs(env.Config); err != nil {
		t.Fatal(err)
	}
	c, err := gatewayapi.NewClient(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := router.NewGatewayAPI(c)

	t.Run("a rule without the canary backend is no weighted rule, and Reconcile restores it", func(t *testing.T) {
		cn := newCanary(t, c, "edited", nil)
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if err := r.SetRoutes(ctx, cn, 70, 30); err != nil {
			t.Fatal(err)
		}
		route := getRoute(t, c, cn)
		route.Spec.Rules[0].BackendRefs = route.Spec.Rules[0].BackendRefs[:1] // the canary backend goes
		route.ManagedFields = nil
		if err := c.Update(ctx, route); err != nil {
			t.Fatal(err)
		}
		_, _, err := r.GetRoutes(ctx, cn)
		var re *router.HTTPRouteError
		if !errors.Is(err, router.ErrNoWeightedRule) || !errors.As(err, &re) || re.Route.Namespace != cn.Namespace || re.Route.Name != "app" {
			t.Fatalf("GetRoutes = %v, want ErrNoWeightedRule naming the route", err)
		}
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		wantWeights(t, r, cn, 100, 0) // nothing to keep: back to all on the primary
	})

	t.Run("new hosts and gateways reach the route and the weights stay", func(t *testing.T) {
		cn := newCanary(t, c, "moved", func(cn *v1alpha1.Canary) {
			cn.Spec.Service.Hosts = []string{"old.example.com"}
			cn.Spec.Service.GatewayRefs = []v1alpha1.GatewayRef{{Name: "old"}}
		})
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if err := r.SetRoutes(ctx, cn, 60, 40); err != nil {
			t.Fatal(err)
		}
		cn.Spec.Service.Hosts = []string{"new.example.com", "www.example.com"}
		cn.Spec.Service.GatewayRefs = []v1alpha1.GatewayRef{{Name: "new", Namespace: "edge"}}
		if err := c.Update(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		route := getRoute(t, c, cn)
		if diff := cmp.Diff([]gatewayv1.Hostname{"new.example.com", "www.example.com"}, route.Spec.Hostnames); diff != "" {
			t.Errorf("hostnames (-want +got):\n%s", diff)
		}
		if len(route.Spec.ParentRefs) != 1 || route.Spec.ParentRefs[0].Name != "new" || ptr.Deref(route.Spec.ParentRefs[0].Namespace, "") != "edge" {
			t.Errorf("parentRefs = %+v, want only the Gateway edge/new", route.Spec.ParentRefs)
		}
		wantWeights(t, r, cn, 60, 40)
	})

	t.Run("header and path matches of the service reach the weighted rule", func(t *testing.T) {
		cn := newCanary(t, c, "headers", func(cn *v1alpha1.Canary) {
			cn.Spec.Service.Match = []v1alpha1.HTTPMatch{
				{Path: &v1alpha1.HTTPPathMatch{Type: "Exact", Value: "/checkout"}},
				{Headers: []v1alpha1.HTTPHeaderMatch{{Name: "x-tenant", Value: "acme"}}},
			}
		})
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		rules := getRoute(t, c, cn).Spec.Rules
		if len(rules) != 1 || len(rules[0].Matches) != 2 {
			t.Fatalf("rules = %+v, want one rule with two matches", rules)
		}
		m := rules[0].Matches
		if p := m[0].Path; p == nil || ptr.Deref(p.Type, "") != gatewayv1.PathMatchExact || ptr.Deref(p.Value, "") != "/checkout" {
			t.Errorf("first match %+v, want the exact path /checkout", m[0])
		}
		if len(m[1].Headers) != 1 || m[1].Headers[0].Name != "x-tenant" || m[1].Headers[0].Value != "acme" ||
			ptr.Deref(m[1].Headers[0].Type, "") != gatewayv1.HeaderMatchExact {
			t.Errorf("second match %+v, want the header x-tenant=acme (Exact, the API server's default)", m[1])
		}
	})

	t.Run("a header A/B match splits the traffic into two rules", func(t *testing.T) {
		cn := newCanary(t, c, "ab-header", func(cn *v1alpha1.Canary) {
			cn.Spec.Analysis.Match = []v1alpha1.HTTPMatch{{Headers: []v1alpha1.HTTPHeaderMatch{{Name: "x-canary", Value: "always"}}}}
		})
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if err := r.SetRoutes(ctx, cn, 0, 100); err != nil {
			t.Fatal(err)
		}
		rules := getRoute(t, c, cn).Spec.Rules
		if len(rules) != 2 {
			t.Fatalf("rules = %+v, want the A/B rule and the primary's", rules)
		}
		if len(rules[0].Matches) != 1 || len(rules[0].Matches[0].Headers) != 1 || rules[0].Matches[0].Headers[0].Name != "x-canary" {
			t.Errorf("A/B rule matches %+v, want the x-canary header", rules[0].Matches)
		}
		if len(rules[1].BackendRefs) != 1 || rules[1].BackendRefs[0].Name != "app-primary" {
			t.Errorf("second rule backends %+v, want the primary alone", rules[1].BackendRefs)
		}
		wantWeights(t, r, cn, 0, 100)
	})

	t.Run("Canaries of the same name in two namespaces have routes of their own", func(t *testing.T) {
		a := newCanary(t, c, "tenant-a", nil)
		b := newCanary(t, c, "tenant-b", nil)
		for _, cn := range []*v1alpha1.Canary{a, b} {
			if err := r.Reconcile(ctx, cn); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.SetRoutes(ctx, a, 20, 80); err != nil {
			t.Fatal(err)
		}
		wantWeights(t, r, a, 20, 80)
		wantWeights(t, r, b, 100, 0)
		if owner := getRoute(t, c, b).OwnerReferences; len(owner) != 1 || owner[0].UID != b.UID {
			t.Errorf("route of %s owned by %+v", b.Namespace, owner)
		}
	})

	t.Run("writes are made as the field manager given", func(t *testing.T) {
		cn := newCanary(t, c, "manager", nil)
		custom := router.NewGatewayAPI(c, router.WithFieldManager("flotilla-test-router"))
		if err := custom.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if got := managers(getRoute(t, c, cn).ManagedFields); !cmp.Equal(got, []string{"flotilla-test-router"}) {
			t.Errorf("field managers %v, want only flotilla-test-router", got)
		}
		if err := r.SetRoutes(ctx, cn, 50, 50); err != nil {
			t.Fatal(err)
		}
		if got := managers(getRoute(t, c, cn).ManagedFields); !contains(got, router.DefaultGatewayAPIFieldManager) {
			t.Errorf("field managers %v, want %s after the default router wrote", got, router.DefaultGatewayAPIFieldManager)
		}
		wantWeights(t, custom, cn, 50, 50)
	})

	t.Run("a Canary not read from the API server owns no route", func(t *testing.T) {
		cn := newCanary(t, c, "no-uid", nil)
		local := cn.DeepCopy()
		local.UID = ""
		err := r.Reconcile(ctx, local)
		var re *router.HTTPRouteError
		if !errors.As(err, &re) || re.Route.Name != "app" {
			t.Fatalf("Reconcile = %v, want an HTTPRouteError naming the route", err)
		}
		var route gatewayv1.HTTPRoute
		if err := c.Get(ctx, client.ObjectKey{Namespace: cn.Namespace, Name: "app"}, &route); err == nil {
			t.Error("a route was written without an owner")
		}
	})
}

func managers(entries []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Manager)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
