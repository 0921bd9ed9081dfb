package metrics_test

import (
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary/metrics"
)

// TestGatewayAPICanaryServiceSelectsOnlyTheCanaryBackend matches the
// regular expression against service labels as Traefik v3.7 writes them
// (copied from a scrape of test/gatewayapi's Traefik, whose real-node test
// checks the same expression against the live label).
func TestGatewayAPICanaryServiceSelectsOnlyTheCanaryBackend(t *testing.T) {
	re := regexp.MustCompile("^(?:" + metrics.GatewayAPICanaryService("shop", "app") + ")$")
	for label, want := range map[string]bool{
		"httproute-shop-app-gw-shop-public-ep-web-0-448a52670a7be6a28b36-svc-shop-app-canary-1@kubernetesgateway":        true,
		"httproute-shop-app-gw-infra-public-ep-websecure-0-0123456789abcdef0123-svc-shop-app-canary-1@kubernetesgateway": true,
		"httproute-shop-app-gw-shop-public-ep-web-0-448a52670a7be6a28b36-svc-shop-app-primary-0@kubernetesgateway":       false,
		"httproute-shop-other-gw-shop-public-ep-web-0-448a52670a7be6a28b36-svc-shop-other-canary-1@kubernetesgateway":    false,
		"httproute-dev-app-gw-dev-public-ep-web-0-448a52670a7be6a28b36-svc-dev-app-canary-1@kubernetesgateway":           false,
		"shop-app-canary-80@kubernetes": false,
	} {
		if got := re.MatchString(label); got != want {
			t.Errorf("%s matches %q: %v, want %v", re, label, got, want)
		}
	}
}

func TestGatewayAPIQueriesSelectTheCanaryOverTheInterval(t *testing.T) {
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "app"},
		Spec:       v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "app"}, Service: v1alpha1.CanaryService{Name: "web"}},
	}
	selector := `service=~"` + metrics.GatewayAPICanaryService("shop", "web") + `"`
	for name, q := range map[string]string{
		"request-success-rate": metrics.GatewayAPIRequestSuccessRate(c, "2m"),
		"request-duration":     metrics.GatewayAPIRequestDuration(c, "2m"),
	} {
		if !strings.Contains(q, selector) || !strings.Contains(q, "[2m]") || strings.Contains(q, "{{") {
			t.Errorf("%s query %q: want the canary of service web (%s) over [2m], no template left", name, q, selector)
		}
	}
}

// The registered built-ins render to the same queries as the functions.
func TestGatewayAPIBuiltinsRenderAsTheFunctions(t *testing.T) {
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "app"},
		Spec:       v1alpha1.CanarySpec{Provider: v1alpha1.RouterGatewayAPI, TargetRef: v1alpha1.CanaryTargetRef{Name: "app"}, Service: v1alpha1.CanaryService{Name: "web"}},
	}
	want := map[string]string{
		metrics.RequestSuccessRate: metrics.GatewayAPIRequestSuccessRate(c, "1m"),
		metrics.RequestDuration:    metrics.GatewayAPIRequestDuration(c, "1m"),
	}
	for name, q := range want {
		b, ok := metrics.LookupBuiltin(v1alpha1.RouterGatewayAPI, name)
		if !ok {
			t.Fatalf("no built-in %s for gatewayapi", name)
		}
		got, err := metrics.Render(b.Query, metrics.ModelOf(c, v1alpha1.CanaryMetric{Name: name, Interval: "1m"}))
		if err != nil {
			t.Fatal(err)
		}
		if got != q {
			t.Errorf("%s:\n got %s\nwant %s", name, got, q)
		}
	}
}
