package metrics

import (
	"fmt"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// The built-in checks of the gatewayapi router read Traefik's service
// metrics (its Gateway API implementation, the one the project tests on):
// Traefik names the service of each backendRef of an HTTPRoute rule
//
//	httproute-<ns>-<route>-gw-<gateway ns>-<gateway>-ep-<entrypoint>-<rule index>-<hash>-svc-<ns>-<backend>-<backend index>@kubernetesgateway
//
// where <hash> depends on the rule's match, so one backend has one service
// per match and Gateway. The queries select the canary backend's services
// with a regular expression on that form.

// GatewayAPICanaryService is the regular expression (RE2, anchored by
// Prometheus) that matches Traefik's service label of the canary backend
// (<apex>-canary) of the HTTPRoute <apex> in namespace.
func GatewayAPICanaryService(namespace, apex string) string {
	return fmt.Sprintf("httproute-%s-%s-gw-.+-svc-%s-%s-canary-[0-9]+@kubernetesgateway", namespace, apex, namespace, apex)
}

// GatewayAPIRequestSuccessRate is the built-in request-success-rate query
// of the gatewayapi router: the percentage of the canary's requests over
// interval (like 1m) that Traefik did not answer with a 5xx status.
func GatewayAPIRequestSuccessRate(c *v1alpha1.Canary, interval string) string {
	svc := GatewayAPICanaryService(c.Namespace, gatewayAPIApex(c))
	return fmt.Sprintf(`sum(rate(traefik_service_requests_total{service=~%q,code!~"5.."}[%s])) / sum(rate(traefik_service_requests_total{service=~%q}[%s])) * 100`,
		svc, interval, svc, interval)
}

// GatewayAPIRequestDuration is the built-in request-duration query of the
// gatewayapi router: the 99th percentile of the canary's request duration
// over interval, in milliseconds, from Traefik's histogram.
func GatewayAPIRequestDuration(c *v1alpha1.Canary, interval string) string {
	svc := GatewayAPICanaryService(c.Namespace, gatewayAPIApex(c))
	return fmt.Sprintf(`histogram_quantile(0.99, sum(rate(traefik_service_request_duration_seconds_bucket{service=~%q}[%s])) by (le)) * 1000`,
		svc, interval)
}

// gatewayAPIApex is the name of the Canary's HTTPRoute and apex Service:
// service.name, or the target's name.
func gatewayAPIApex(c *v1alpha1.Canary) string {
	if c.Spec.Service.Name != "" {
		return c.Spec.Service.Name
	}
	return c.Spec.TargetRef.Name
}

// The built-in checks of the gatewayapi router are the queries above with
// the template's variables in place of the Canary's values.
func init() {
	tmpl := &v1alpha1.Canary{}
	tmpl.Namespace = "{{ namespace }}"
	tmpl.Spec.Service.Name = "{{ service }}"
	RegisterBuiltin(v1alpha1.RouterGatewayAPI, RequestSuccessRate, Builtin{Query: GatewayAPIRequestSuccessRate(tmpl, "{{ interval }}")})
	RegisterBuiltin(v1alpha1.RouterGatewayAPI, RequestDuration, Builtin{Query: GatewayAPIRequestDuration(tmpl, "{{ interval }}")})
}
