package metrics_test

import (
	"fmt"

	"github.com/flotilla-io/flotilla/internal/canary/metrics"
)

// A MetricTemplate's query, with Flagger's variables, as a check renders it.
func ExampleRender() {
	q, err := metrics.Render(
		`sum(rate(http_requests_total{namespace="{{ namespace }}",pod=~"{{ target }}-.+",code="{{ variables.code }}"}[{{ interval }}]))`,
		metrics.Model{Namespace: "shop", Target: "web", Interval: "1m", Variables: map[string]string{"code": "404"}},
	)
	fmt.Println(q, err)
	// Output: sum(rate(http_requests_total{namespace="shop",pod=~"web-.+",code="404"}[1m])) <nil>
}
