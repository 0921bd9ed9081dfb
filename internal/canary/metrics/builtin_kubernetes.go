package metrics

import "github.com/flotilla-io/flotilla/api/v1alpha1"

// The kubernetes router (blue/green) has no proxy that measures traffic, so
// its built-in checks read the application's own metrics, as Flagger's do
// for it: http_requests_total{code} and the http_request_duration_seconds
// histogram (the example app's, and those of most Prometheus-instrumented
// HTTP servers), with the namespace and pod labels that the usual Pod
// scrape relabelling adds. The canary's Pods are matched as Flagger matches
// them: <target>-<replicaset hash>-<pod suffix>, which leaves out the
// primary's <target>-primary-<hash>-<suffix>.
//
// request-success-rate counts a canary with only failing requests as 0
// (the "or on() vector(0)"), not as no value: both fail, but the message
// then says what happened.
const (
	kubernetesSuccessRate = `(
  sum(
    rate(
      http_requests_total{
        namespace="{{ namespace }}",
        pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",
        code!~"5.."
      }[{{ interval }}]
    )
  )
  or on() vector(0)
)
/
sum(
  rate(
    http_requests_total{
      namespace="{{ namespace }}",
      pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
    }[{{ interval }}]
  )
)
* 100`

	kubernetesDuration = `histogram_quantile(
  0.99,
  sum(
    rate(
      http_request_duration_seconds_bucket{
        namespace="{{ namespace }}",
        pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
      }[{{ interval }}]
    )
  ) by (le)
)
* 1000`
)

func init() {
	RegisterBuiltin(v1alpha1.RouterKubernetes, RequestSuccessRate, Builtin{Query: kubernetesSuccessRate})
	RegisterBuiltin(v1alpha1.RouterKubernetes, RequestDuration, Builtin{Query: kubernetesDuration})
}
