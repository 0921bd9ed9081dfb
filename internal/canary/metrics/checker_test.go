package metrics_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/examples/app/server"
	"github.com/flotilla-io/flotilla/internal/canary/metrics"
	"github.com/flotilla-io/flotilla/internal/localprometheus"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var env *controlplane.Env

func TestMain(m *testing.M) {
	code := controlplane.RunTests(m, &env)
	if shared != nil {
		_ = shared.prom.Stop()
	}
	os.Exit(code)
}

// The Pods the in-process servers stand for, as the scrape relabelling
// names them. "bad" answers 500 to half its requests, "slow" takes 300ms
// to answer any; "good"'s primary
// answers 500 to all, so a check of the canary "good" that counted it
// could not find 100%.
const (
	ns         = "shop"
	goodPod    = "good-7d9f8c6b5-x2k4z"
	primaryPod = "good-primary-5c7d9f8b6-k3j2h"
	badPod     = "bad-6c8d7b4f9-q7w2e"
	slowPod    = "slow-8e6f5d4c3-m9n8b"
	// interval is the range of the checks' queries: long enough for a few
	// one-second scrapes.
	interval = "10s"
)

// fixture is a real Prometheus scraping two in-process example apps under
// load: a good version and a bad one.
type fixture struct {
	prom *localprometheus.Server
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
)

// appFixture starts the shared fixture once for the package's tests.
func appFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: runs a real Prometheus scraping the example app")
	}
	fixtureOnce.Do(func() { shared, fixtureErr = startFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

func startFixture() (*fixture, error) {
	good, bad, primary, slow := server.DefaultOptions(), server.DefaultOptions(), server.DefaultOptions(), server.DefaultOptions()
	bad.ErrorPercent, primary.ErrorPercent, slow.Delay = 50, 100, 300*time.Millisecond
	var scrapes []localprometheus.ScrapeConfig
	var targets []string
	for _, app := range []struct {
		pod  string
		opts server.Options
	}{{goodPod, good}, {badPod, bad}, {primaryPod, primary}, {slowPod, slow}} {
		addr, err := serveApp(app.opts)
		if err != nil {
			return nil, err
		}
		targets = append(targets, addr)
		scrapes = append(scrapes, localprometheus.ScrapeConfig{
			JobName: app.pod, Targets: []string{addr},
			Labels: map[string]string{"namespace": ns, "pod": app.pod},
		})
	}
	for _, t := range targets {
		go sendLoad(t)
	}
	prom, err := localprometheus.Start(context.Background(), localprometheus.WithScrape(scrapes...))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Every app's rate over the interval exists: the checks have data.
	if _, err := prom.WaitFor(ctx, `count(sum by (pod) (rate(http_requests_total{namespace="shop"}[`+interval+`])) > 0) == 4`); err != nil {
		_ = prom.Stop()
		return nil, err
	}
	return &fixture{prom: prom}, nil
}

// serveApp runs the example app's handler on loopback for the rest of the
// test binary and returns its address.
func serveApp(o server.Options) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = http.Serve(ln, server.NewServer(o).Handler()) }()
	return ln.Addr().String(), nil
}

// sendLoad sends up to 20 requests a second to target, for the rest of
// the test binary.
func sendLoad(target string) {
	for range time.Tick(50 * time.Millisecond) {
		resp, err := http.Get("http://" + target + "/")
		if err == nil {
			resp.Body.Close()
		}
	}
}

func canaryFor(target, metricsServer string) *v1alpha1.Canary {
	c := checkerCanary(v1alpha1.RouterKubernetes)
	c.Namespace, c.Spec.TargetRef.Name, c.Spec.MetricsServer = ns, target, metricsServer
	c.Spec.Analysis.Interval = interval
	return c
}

func minimum(v float64) *v1alpha1.CanaryThresholdRange {
	return &v1alpha1.CanaryThresholdRange{Min: &v}
}
func maximum(v float64) *v1alpha1.CanaryThresholdRange {
	return &v1alpha1.CanaryThresholdRange{Max: &v}
}

func TestBuiltinChecksAgainstARealPrometheus(t *testing.T) {
	f := appFixture(t)
	k := metrics.New(nil)
	tests := []struct {
		name        string
		target      string
		metric      v1alpha1.CanaryMetric
		wantPass    bool
		wantValue   string
		wantMessage string
	}{
		{
			name: "a-good-version-passes-request-success-rate", target: "good",
			metric:   v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(99)},
			wantPass: true, wantValue: "100",
		},
		{
			name: "the-failing-primary-is-not-the-canary", target: "good-primary",
			metric:    v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(99)},
			wantValue: "0", wantMessage: "value 0 is below the minimum 99",
		},
		{
			name: "a-failing-version-fails-request-success-rate", target: "bad",
			metric:      v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(99)},
			wantMessage: "is below the minimum 99",
		},
		{
			name: "a-good-version-passes-request-duration", target: "good",
			metric:   v1alpha1.CanaryMetric{Name: metrics.RequestDuration, ThresholdRange: maximum(500)},
			wantPass: true,
		},
		{
			name: "a-slow-version-fails-request-duration", target: "slow",
			metric:      v1alpha1.CanaryMetric{Name: metrics.RequestDuration, ThresholdRange: maximum(250)},
			wantMessage: "is above the maximum 250",
		},
		{
			name: "a-slow-version-passes-request-success-rate", target: "slow",
			metric:   v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(99)},
			wantPass: true, wantValue: "100",
		},
		{
			name: "a-canary-with-no-traffic-fails", target: "silent",
			metric:      v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(99)},
			wantMessage: "no value",
		},
		{
			name: "a-canary-with-no-traffic-fails-request-duration-too", target: "silent",
			metric:      v1alpha1.CanaryMetric{Name: metrics.RequestDuration, ThresholdRange: maximum(500)},
			wantMessage: "no value",
		},
		{
			name: "a-pod-of-a-longer-deployment-name-is-not-the-target", target: "good-7d9f8c6b5",
			metric:      v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(99)},
			wantMessage: "no value",
		},
		{
			name: "an-unknown-built-in-fails", target: "good",
			metric:      v1alpha1.CanaryMetric{Name: "request-happiness"},
			wantMessage: `"request-happiness" has no templateRef and is not a built-in check of the kubernetes router`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := k.Check(context.Background(), canaryFor(tt.target, f.prom.URL()), tt.metric)
			t.Logf("%+v", got)
			if got.Passed != tt.wantPass || !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("Check = %+v, want passed=%v and a message with %q", got, tt.wantPass, tt.wantMessage)
			}
			if tt.wantValue != "" && got.Value != tt.wantValue {
				t.Errorf("value = %q, want %q", got.Value, tt.wantValue)
			}
			if got.Name != tt.metric.Name {
				t.Errorf("name = %q, want %q", got.Name, tt.metric.Name)
			}
		})
	}
}

func TestBadVersionSuccessRateIsMeasured(t *testing.T) {
	f := appFixture(t)
	got := metrics.New(nil).Check(context.Background(), canaryFor("bad", f.prom.URL()), v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate})
	// No range: the value alone. Half the requests fail, evenly.
	v, err := strconv.ParseFloat(got.Value, 64)
	if !got.Passed || err != nil || v < 45 || v > 55 {
		t.Errorf("Check = %+v, want a value near 50", got)
	}
	t.Logf("bad version: %+v", got)
}

func TestMetricsServerMissingOrDown(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: starts and stops a real Prometheus")
	}
	prom, err := localprometheus.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := canaryFor("good", prom.URL())
	m := v1alpha1.CanaryMetric{Name: metrics.RequestSuccessRate, ThresholdRange: minimum(0)}
	// Up but empty: no value.
	if got := metrics.New(nil).Check(context.Background(), c, m); got.Passed || !strings.Contains(got.Message, "no value") {
		t.Errorf("Check on an empty Prometheus = %+v, want a failure for no value", got)
	}
	if err := prom.Stop(); err != nil {
		t.Fatal(err)
	}
	got := metrics.New(nil, metrics.WithQueryTimeout(5*time.Second)).Check(context.Background(), c, m)
	t.Logf("stopped: %+v", got)
	if got.Passed || !strings.Contains(got.Message, "querying Prometheus at "+prom.URL()) {
		t.Errorf("Check with Prometheus stopped = %+v, want a failure naming the server", got)
	}
	c.Spec.MetricsServer = ""
	if got := metrics.New(nil).Check(context.Background(), c, m); got.Passed || !strings.Contains(got.Message, "spec.metricsServer is empty") {
		t.Errorf("Check with no metricsServer = %+v", got)
	}
}

// createTemplate creates a MetricTemplate (and the namespace) with envtest.
func createTemplate(t *testing.T, name, query string, provider v1alpha1.MetricProvider) {
	t.Helper()
	createTemplateIn(t, ns, name, query, provider)
}

func createTemplateIn(t *testing.T, namespace, name, query string, provider v1alpha1.MetricProvider) {
	t.Helper()
	ctx := context.Background()
	ensureNamespace(t, namespace)
	mt := &v1alpha1.MetricTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       v1alpha1.MetricTemplateSpec{Provider: provider, Query: query},
	}
	if err := env.Client.Create(ctx, mt); err != nil {
		t.Fatal(err)
	}
}

// ensureNamespace creates namespace unless it exists, so a test that only
// makes Secrets does not depend on another test having made a template first.
func ensureNamespace(t *testing.T, namespace string) {
	t.Helper()
	err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func createSecret(t *testing.T, name string, data map[string]string) {
	t.Helper()
	ensureNamespace(t, ns)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestMetricTemplateWithVariables(t *testing.T) {
	f := appFixture(t)
	controlplane.Require(t, env)
	createTemplate(t, "errors-by-code", `sum(rate(http_requests_total{namespace="{{ namespace }}",pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",code="{{ variables.code }}"}[{{ interval }}])) or on() vector(0)`,
		v1alpha1.MetricProvider{Type: "prometheus", Address: f.prom.URL()})
	k := metrics.New(env.Client)
	metric := func(code string) v1alpha1.CanaryMetric {
		m := v1alpha1.CanaryMetric{
			Name: "500s", TemplateRef: &v1alpha1.CrossNamespaceObjectReference{Name: "errors-by-code"},
			ThresholdRange: maximum(0),
		}
		if code != "" {
			m.TemplateVariables = map[string]string{"code": code}
		}
		return m
	}
	if got := k.Check(context.Background(), canaryFor("good", f.prom.URL()), metric("500")); !got.Passed || got.Value != "0" {
		t.Errorf("good version's 500s = %+v, want 0 and a pass", got)
	}
	if got := k.Check(context.Background(), canaryFor("bad", f.prom.URL()), metric("500")); got.Passed || !strings.Contains(got.Message, "above the maximum 0") {
		t.Errorf("bad version's 500s = %+v, want a failure above the maximum", got)
	}
	if got := k.Check(context.Background(), canaryFor("good", f.prom.URL()), metric("")); got.Passed || !strings.Contains(got.Message, `map has no entry for key "code"`) {
		t.Errorf("missing variable = %+v, want a failure naming it", got)
	}
	other := metric("500")
	other.TemplateRef.Namespace = "elsewhere"
	if got := k.Check(context.Background(), canaryFor("good", f.prom.URL()), other); got.Passed || !strings.Contains(got.Message, "MetricTemplate elsewhere/errors-by-code (templateRef) not found") {
		t.Errorf("template in another namespace = %+v, want not found", got)
	}
	other.TemplateRef.Namespace = "default"
	createTemplateIn(t, "default", "errors-by-code", `sum(up)`, v1alpha1.MetricProvider{Address: f.prom.URL()})
	if got := metrics.New(env.Client, metrics.WithNoCrossNamespaceRefs()).Check(context.Background(), canaryFor("good", f.prom.URL()), other); got.Passed || !strings.Contains(got.Message, "no cross-namespace references") {
		t.Errorf("cross-namespace template in lock-down = %+v, want it refused", got)
	}
	if got := metrics.New(env.Client, metrics.WithNoCrossNamespaceRefs()).Check(context.Background(), canaryFor("good", f.prom.URL()), metric("500")); !got.Passed {
		t.Errorf("same-namespace template in lock-down = %+v, want a pass", got)
	}
}

func TestMetricTemplateBadQuery(t *testing.T) {
	f := appFixture(t)
	controlplane.Require(t, env)
	createTemplate(t, "not-promql", `sum(rate(http_requests_total[{{ interval }}]`, v1alpha1.MetricProvider{Address: f.prom.URL()})
	got := metrics.New(env.Client).Check(context.Background(), canaryFor("good", f.prom.URL()),
		v1alpha1.CanaryMetric{Name: "broken", TemplateRef: &v1alpha1.CrossNamespaceObjectReference{Name: "not-promql"}})
	if got.Passed || !strings.Contains(got.Message, "not valid PromQL") {
		t.Errorf("Check = %+v, want a PromQL failure", got)
	}
}

// authProxy stands in front of the real Prometheus, as a reverse proxy
// with authentication does in production: it forwards only requests with
// the basic credentials or the bearer token given.
func authProxy(t *testing.T, target, user, password, token string) string {
	t.Helper()
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPassword, basic := r.BasicAuth()
		switch {
		case basic && gotUser == user && gotPassword == password && user != "":
		case token != "" && r.Header.Get("Authorization") == "Bearer "+token:
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestInsecureSkipVerify(t *testing.T) {
	f := appFixture(t)
	controlplane.Require(t, env)
	u, _ := url.Parse(f.prom.URL())
	tlsProxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	t.Cleanup(tlsProxy.Close)
	query := `sum(rate(http_requests_total{namespace="{{ namespace }}"}[{{ interval }}]))`
	for _, tt := range []struct {
		name        string
		insecure    bool
		wantPass    bool
		wantMessage string
	}{
		{name: "verified", wantMessage: "certificate"},
		{name: "skipped", insecure: true, wantPass: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			createTemplate(t, "tls-"+tt.name, query, v1alpha1.MetricProvider{Address: tlsProxy.URL, InsecureSkipVerify: tt.insecure})
			got := metrics.New(env.Client).Check(context.Background(), canaryFor("good", f.prom.URL()),
				v1alpha1.CanaryMetric{Name: "requests", TemplateRef: &v1alpha1.CrossNamespaceObjectReference{Name: "tls-" + tt.name}})
			if got.Passed != tt.wantPass || !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("Check = %+v, want passed=%v and a message with %q", got, tt.wantPass, tt.wantMessage)
			}
		})
	}
}

func TestProviderCredentialsFromASecret(t *testing.T) {
	f := appFixture(t)
	controlplane.Require(t, env)
	const password, token = "s3cret-pa55word-marker", "t0ken-marker-abcdef"
	basicURL := authProxy(t, f.prom.URL(), "flagger", password, "")
	bearerURL := authProxy(t, f.prom.URL(), "", "", token)
	createSecret(t, "prom-basic", map[string]string{"username": "flagger", "password": password})
	createSecret(t, "prom-wrong", map[string]string{"username": "flagger", "password": "not-" + password})
	createSecret(t, "prom-token", map[string]string{"token": token})
	createSecret(t, "prom-empty", map[string]string{"user": "flagger"})
	query := `sum(rate(http_requests_total{namespace="{{ namespace }}",pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{ interval }}]))`
	tests := []struct {
		name, address, secret string
		wantPass              bool
		wantMessage           string
	}{
		{name: "basic-auth", address: basicURL, secret: "prom-basic", wantPass: true},
		{name: "bearer-token", address: bearerURL, secret: "prom-token", wantPass: true},
		{name: "wrong-password", address: basicURL, secret: "prom-wrong", wantMessage: "401"},
		{name: "no-credentials", address: basicURL, wantMessage: "401"},
		{name: "missing-secret", address: basicURL, secret: "prom-missing", wantMessage: "Secret shop/prom-missing (provider.secretRef) not found"},
		{name: "secret-without-the-keys", address: basicURL, secret: "prom-empty", wantMessage: "neither the keys username and password nor token"},
		{name: "credentials-in-the-address-never-show", address: strings.Replace(basicURL, "http://", "http://flagger:"+password+"@", 1) + "/nowhere?token=" + token, wantMessage: "querying Prometheus at "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v1alpha1.MetricProvider{Type: "prometheus", Address: tt.address}
			if tt.secret != "" {
				p.SecretRef = &v1alpha1.LocalObjectReference{Name: tt.secret}
			}
			createTemplate(t, "auth-"+tt.name, query, p)
			got := metrics.New(env.Client).Check(context.Background(), canaryFor("good", f.prom.URL()),
				v1alpha1.CanaryMetric{Name: "requests", TemplateRef: &v1alpha1.CrossNamespaceObjectReference{Name: "auth-" + tt.name}, ThresholdRange: minimum(1)})
			t.Logf("%+v", got)
			if got.Passed != tt.wantPass || !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("Check = %+v, want passed=%v and a message with %q", got, tt.wantPass, tt.wantMessage)
			}
			for _, secret := range []string{password, token, "not-" + password} {
				if strings.Contains(got.Message+got.Value, secret) {
					t.Errorf("the result carries a secret value: %+v", got)
				}
			}
		})
	}
}

func checkerCanary(router string) *v1alpha1.Canary {
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
