package metrics

import (
	"testing"

	"github.com/prometheus/common/model"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// TestModelOfWritesIntervalsInPrometheusGrammar checks every interval the
// Canary API admits (^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$) reaches the query in
// a form Prometheus's own duration parser accepts, with the same length.
func TestModelOfWritesIntervalsInPrometheusGrammar(t *testing.T) {
	tests := []struct{ spec, want string }{
		{spec: "90s", want: "1m30s"},
		{spec: "1m30s", want: "1m30s"},
		{spec: "1.5m", want: "1m30s"},
		{spec: "500ms", want: "500ms"},
		{spec: "0.5s", want: "500ms"},
		{spec: "1h", want: "1h"},
		{spec: "1.5h", want: "1h30m"},
		{spec: "60s", want: "1m"},
		{spec: "2m", want: "2m"},
		{spec: "30s", want: "30s"},
		{spec: "1.25s", want: "1s250ms"},
		{spec: "24h", want: "1d"},
		{spec: "0.0001s", want: "1ms"},
		{spec: "1.0004s", want: "1s"},
	}
	for _, tt := range tests {
		for _, where := range []string{"analysis", "metric"} {
			t.Run(where+"-"+tt.spec, func(t *testing.T) {
				c := testCanary(v1alpha1.RouterKubernetes)
				var m v1alpha1.CanaryMetric
				if where == "analysis" {
					c.Spec.Analysis.Interval = tt.spec
				} else {
					m.Interval = tt.spec
				}
				got := ModelOf(c, m).Interval
				if got != tt.want {
					t.Errorf("interval %q: got %q, want %q", tt.spec, got, tt.want)
				}
				if _, err := model.ParseDuration(got); err != nil {
					t.Errorf("interval %q became %q, which Prometheus rejects: %v", tt.spec, got, err)
				}
			})
		}
	}
}

// TestRenderedBuiltinQueriesCarryAPrometheusRange renders a builtin query
// for a fractional interval and checks the range selector Prometheus sees.
func TestRenderedBuiltinQueriesCarryAPrometheusRange(t *testing.T) {
	c := testCanary(v1alpha1.RouterKubernetes)
	c.Spec.Analysis.Interval = "1.5m"
	got, err := Render("rate(x[{{ interval }}])", ModelOf(c, v1alpha1.CanaryMetric{}))
	if err != nil {
		t.Fatal(err)
	}
	if want := "rate(x[1m30s])"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestModelOfKeepsAnIntervalItCannotRead leaves an interval Go cannot parse
// (one the API server's pattern would refuse) as written, so Prometheus's
// error names what the user wrote rather than a value Flotilla made up.
func TestModelOfKeepsAnIntervalItCannotRead(t *testing.T) {
	c := testCanary(v1alpha1.RouterKubernetes)
	if got := ModelOf(c, v1alpha1.CanaryMetric{Interval: "5d"}).Interval; got != "5d" {
		t.Errorf("got %q, want the interval as written", got)
	}
}
