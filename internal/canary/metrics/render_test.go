package metrics

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func testCanary(router string) *v1alpha1.Canary {
	return &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "web-canary", Namespace: "shop"},
		Spec: v1alpha1.CanarySpec{
			Provider:  router,
			TargetRef: v1alpha1.CanaryTargetRef{Name: "web"},
			Service:   v1alpha1.CanaryService{Port: 80},
			Analysis:  v1alpha1.CanaryAnalysis{Interval: "30s"},
		},
	}
}

func TestModelOf(t *testing.T) {
	tests := []struct {
		name   string
		canary func(*v1alpha1.Canary)
		metric v1alpha1.CanaryMetric
		want   Model
	}{
		{
			name: "defaults-from-the-canary",
			want: Model{Name: "web-canary", Namespace: "shop", Target: "web", Service: "web", Interval: "30s", Variables: map[string]string{}},
		},
		{
			name:   "metric-interval-and-variables",
			metric: v1alpha1.CanaryMetric{Interval: "2m", TemplateVariables: map[string]string{"direction": "inbound"}},
			want:   Model{Name: "web-canary", Namespace: "shop", Target: "web", Service: "web", Interval: "2m", Variables: map[string]string{"direction": "inbound"}},
		},
		{
			name:   "no-interval-anywhere",
			canary: func(c *v1alpha1.Canary) { c.Spec.Analysis.Interval = "" },
			want:   Model{Name: "web-canary", Namespace: "shop", Target: "web", Service: "web", Interval: "1m", Variables: map[string]string{}},
		},
		{
			name: "gatewayapi-has-an-ingress-named-like-the-service",
			canary: func(c *v1alpha1.Canary) {
				c.Spec.Provider, c.Spec.Service.Name = v1alpha1.RouterGatewayAPI, "storefront"
			},
			want: Model{Name: "web-canary", Namespace: "shop", Target: "web", Service: "storefront", Ingress: "storefront", Interval: "30s", Variables: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCanary(v1alpha1.RouterKubernetes)
			if tt.canary != nil {
				tt.canary(c)
			}
			if diff := cmp.Diff(tt.want, ModelOf(c, tt.metric)); diff != "" {
				t.Errorf("ModelOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRender(t *testing.T) {
	m := Model{Name: "web-canary", Namespace: "shop", Target: "web", Service: "storefront", Ingress: "storefront",
		Interval: "1m", Variables: map[string]string{"direction": "inbound", "code": "404"}}
	tests := []struct {
		name, query, want, wantErr string
	}{
		{name: "every-variable", query: "{{ name }} {{ namespace }} {{ target }} {{ service }} {{ ingress }} {{ interval }}",
			want: "web-canary shop web storefront storefront 1m"},
		{name: "flaggers-variables-syntax", query: `x{direction="{{ variables.direction }}",code="{{variables.code}}"}`,
			want: `x{direction="inbound",code="404"}`},
		{name: "no-template-at-all", query: `sum(up)`, want: `sum(up)`},
		{name: "a-missing-variable-is-an-error", query: `{{ variables.nope }}`, wantErr: `map has no entry for key "nope"`},
		{name: "an-unknown-function-is-an-error", query: `{{ canary }}`, wantErr: `function "canary" not defined`},
		{name: "a-syntax-error", query: `{{ namespace `, wantErr: "parsing the query template"},
		{name: "dot-is-nothing", query: `{{ .Namespace }}`, wantErr: "rendering the query template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.query, m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderRefusesAHugeQuery(t *testing.T) {
	big := strings.Repeat("x", 1024)
	_, err := Render(`{{ range $i, $_ := (variables) }}{{ end }}`+strings.Repeat(`{{ variables.big }}`, 100), Model{Variables: map[string]string{"big": big}})
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Render = %v, want the size error", err)
	}
}

func TestBuiltinKubernetesQueries(t *testing.T) {
	c := testCanary("")
	for name, want := range map[string][]string{
		RequestSuccessRate: {
			`namespace="shop"`, `pod=~"web-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`, `code!~"5.."`, `[30s]`, "or on() vector(0)", "* 100",
		},
		RequestDuration: {
			"histogram_quantile(\n  0.99,", `http_request_duration_seconds_bucket{`, `pod=~"web-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`, "by (le)", "* 1000",
		},
	} {
		b, ok := LookupBuiltin(c.Spec.Provider, name)
		if !ok {
			t.Fatalf("no built-in %s for the default router", name)
		}
		q, err := Render(b.Query, ModelOf(c, v1alpha1.CanaryMetric{Name: name}))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(q, w) {
				t.Errorf("%s renders\n%s\nwithout %q", name, q, w)
			}
		}
	}
	if diff := cmp.Diff([]string{RequestDuration, RequestSuccessRate}, BuiltinNames(v1alpha1.RouterKubernetes)); diff != "" {
		t.Errorf("kubernetes built-ins (-want +got):\n%s", diff)
	}
}

func TestRegisterBuiltin(t *testing.T) {
	t.Cleanup(func() { delete(builtins, "test-router") })
	RegisterBuiltin("test-router", "hits", Builtin{Query: "sum(hits)"})
	if b, ok := LookupBuiltin("test-router", "hits"); !ok || b.Query != "sum(hits)" {
		t.Errorf("LookupBuiltin = %+v, %v", b, ok)
	}
	if _, ok := LookupBuiltin("test-router", RequestSuccessRate); ok {
		t.Error("a router's built-ins leak into another's")
	}
}

func TestSingle(t *testing.T) {
	sample := func(v float64, pod string) *model.Sample {
		return &model.Sample{Metric: model.Metric{"pod": model.LabelValue(pod)}, Value: model.SampleValue(v)}
	}
	tests := []struct {
		name    string
		value   model.Value
		want    float64
		wantErr string
	}{
		{name: "one-sample", value: model.Vector{sample(99.5, "a")}, want: 99.5},
		{name: "scalar", value: &model.Scalar{Value: 3}, want: 3},
		{name: "zero-is-a-value", value: model.Vector{sample(0, "a")}, want: 0},
		{name: "empty", value: model.Vector{}, wantErr: "no value"},
		{name: "nan", value: model.Vector{sample(math.NaN(), "a")}, wantErr: "NaN"},
		{name: "infinite", value: model.Vector{sample(math.Inf(1), "a")}, wantErr: "+Inf"},
		{name: "two-series", value: model.Vector{sample(1, "a"), sample(2, "b")}, wantErr: "2 series"},
		{name: "a-matrix", value: model.Matrix{}, wantErr: "want a scalar or an instant vector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := single(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("single = %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("single = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestInRange(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		value   float64
		r       *v1alpha1.CanaryThresholdRange
		pass    bool
		message string
	}{
		{name: "no-range", value: 5, pass: true},
		{name: "at-the-minimum", value: 99, r: &v1alpha1.CanaryThresholdRange{Min: f(99)}, pass: true},
		{name: "below-the-minimum", value: 98.5, r: &v1alpha1.CanaryThresholdRange{Min: f(99)}, message: "value 98.5 is below the minimum 99"},
		{name: "at-the-maximum", value: 500, r: &v1alpha1.CanaryThresholdRange{Max: f(500)}, pass: true},
		{name: "above-the-maximum", value: 612.25, r: &v1alpha1.CanaryThresholdRange{Max: f(500)}, message: "value 612.25 is above the maximum 500"},
		{name: "inside-both", value: 10, r: &v1alpha1.CanaryThresholdRange{Min: f(1), Max: f(100)}, pass: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pass, msg := inRange(tt.value, tt.r)
			if pass != tt.pass || msg != tt.message {
				t.Errorf("inRange = %v %q, want %v %q", pass, msg, tt.pass, tt.message)
			}
		})
	}
}

// FuzzRender checks that no template and variable value panic the
// renderer or make it write past its bound.
func FuzzRender(f *testing.F) {
	for _, seed := range []struct{ query, value string }{
		{`sum(rate(x{namespace="{{ namespace }}"}[{{ interval }}]))`, "inbound"},
		{`{{ variables.v }}`, `"}) or vector(1) #`},
		{`{{ range variables }}{{ . }}{{ end }}`, "x"},
		{`{{ `, ""},
		{`{{ printf "%0999999d" 1 }}`, ""},
		{kubernetesSuccessRate, "v"},
	} {
		f.Add(seed.query, seed.value)
	}
	f.Fuzz(func(t *testing.T, query, value string) {
		m := Model{Name: "n", Namespace: "ns", Target: "t", Service: "s", Interval: "1m", Variables: map[string]string{"v": value}}
		out, err := Render(query, m)
		if err == nil && len(out) > maxQuery {
			t.Errorf("rendered %d bytes, over the bound %d", len(out), maxQuery)
		}
	})
}
