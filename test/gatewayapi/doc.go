// Package gatewayapi is the Gateway API part of Flotilla's test ground:
// the Gateway API CRDs (standard channel, v1.6.3, the release line Traefik
// v3.7 implements) to install into an API server, and a real Traefik v3
// (built from its Go module by hack/testenv.sh into the test ground's
// directory) run as a host process that watches that API server with its
// kubernetesgateway provider and splits traffic by the weights of
// HTTPRoutes.
//
// Traefik runs outside the cluster: it reads Services' endpoints and sends
// requests straight to the Pod IPs, which the host reaches on the real node
// (internal/localnode). Its entrypoint "web" listens on a free loopback port, which
// is the port a Gateway's listener must name; its Prometheus metrics and
// ping are on entrypoint "metrics", on another free port.
//
// The API returns errors and takes no testing.T, so that the demo can use
// it as the tests do. It is not a product package: nothing outside tests
// and the demo imports it.
package gatewayapi
