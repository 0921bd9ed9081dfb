package localprometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/test/controlplane"
)

var env *controlplane.Env

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(runFakePrometheus(mode, os.Args[1:]))
	}
	os.Exit(controlplane.RunTests(m, &env))
}

// metricsServer serves one gauge, flotilla_test_value 42, on loopback.
func metricsServer(t *testing.T) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "flotilla_test_value", Help: "A test value."})
	g.Set(42)
	reg.MustRegister(g)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return srv
}

func requirePrometheus(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: starts Debian's prometheus")
	}
}

func TestStaticTargetsAreScrapedWithTheirLabels(t *testing.T) {
	requirePrometheus(t)
	target := metricsServer(t)
	s := New(t, WithScrape(ScrapeConfig{
		JobName: "app",
		Targets: []string{strings.TrimPrefix(target.URL, "http://")},
		Labels:  map[string]string{"namespace": "shop", "pod": "web-7d9f8c6b5-x2k4z"},
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vec, err := s.WaitFor(ctx, `flotilla_test_value{job="app"}`)
	if err != nil {
		t.Fatal(err)
	}
	got := vec[0].Metric
	for name, want := range map[model.LabelName]model.LabelValue{"namespace": "shop", "pod": "web-7d9f8c6b5-x2k4z"} {
		if got[name] != want {
			t.Errorf("label %s = %q, want %q (series %v)", name, got[name], want, got)
		}
	}
	if vec[0].Value != 42 {
		t.Errorf("value = %v, want 42", vec[0].Value)
	}
}

func TestPodDiscoveryThroughAKubeconfig(t *testing.T) {
	requirePrometheus(t)
	controlplane.Require(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	target := metricsServer(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prom-sd"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// Two Pods standing for the app's (their IP is loopback, where the
	// metrics server listens): one annotated for scraping, one not.
	for _, p := range []struct {
		name   string
		scrape string
	}{{"web-7d9f8c6b5-x2k4z", "true"}, {"web-7d9f8c6b5-hidden", "false"}} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: p.name, Namespace: ns.Name, Labels: map[string]string{"app": "web"},
				Annotations: map[string]string{"prometheus.io/scrape": p.scrape, "prometheus.io/port": port},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:v1",
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}},
		}
		if err := env.Client.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}}}
		if err := env.Client.Status().Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	s := New(t, WithScrape(ScrapeConfig{JobName: "pods", Kubeconfig: env.Kubeconfig, Namespaces: []string{ns.Name}}))
	vec, err := s.WaitFor(ctx, `flotilla_test_value{job="pods"}`)
	if err != nil {
		t.Fatal(err)
	}
	var pods []string
	for _, sample := range vec {
		m := sample.Metric
		pods = append(pods, fmt.Sprintf("%s/%s app=%s instance=%s", m["namespace"], m["pod"], m["app"], m["instance"]))
	}
	want := []string{"prom-sd/web-7d9f8c6b5-x2k4z app=web instance=127.0.0.1:" + port}
	if diff := cmp.Diff(want, pods); diff != "" {
		t.Errorf("scraped pods (-want +got):\n%s", diff)
	}
}

func TestStopKillsAndCleans(t *testing.T) {
	requirePrometheus(t)
	target := metricsServer(t)
	s, err := Start(context.Background(), WithScrape(ScrapeConfig{JobName: "app", Targets: []string{strings.TrimPrefix(target.URL, "http://")}}))
	if err != nil {
		t.Fatal(err)
	}
	dir := s.dir
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s after Stop: %v, want it removed", dir, err)
	}
	if resp, err := http.Get(s.URL() + "/-/ready"); err == nil {
		resp.Body.Close()
		t.Errorf("%s answers %s after Stop", s.URL(), resp.Status)
	}
	if !strings.Contains(s.Logs(), "Server is ready to receive web requests") {
		t.Errorf("logs after Stop = %q, want the server's output kept", s.Logs())
	}
}

func TestStartFailsWithTheLog(t *testing.T) {
	requirePrometheus(t)
	// A label name Prometheus refuses is a configuration ScrapeConfig
	// lets through and Prometheus rejects.
	_, err := Start(context.Background(), WithScrape(ScrapeConfig{JobName: "app", Targets: []string{"127.0.0.1:1"}, Labels: map[string]string{"not-a-label": "x"}}),
		WithReadyTimeout(20*time.Second))
	if err == nil {
		t.Fatal("Start succeeded with a label name Prometheus refuses")
	}
	if !strings.Contains(err.Error(), "Error loading config") {
		t.Errorf("error = %v, want the server's log saying why", err)
	}
}

func TestStartRefusesAMissingKubeconfig(t *testing.T) {
	requirePrometheus(t)
	_, err := Start(context.Background(), WithScrape(ScrapeConfig{JobName: "pods", Kubeconfig: "/nonexistent/kubeconfig"}))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/kubeconfig") {
		t.Fatalf("error = %v, want one naming the kubeconfig", err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		scrapes []ScrapeConfig
		want    string
		wantErr string
	}{
		{
			name:    "static-with-labels",
			scrapes: []ScrapeConfig{{JobName: "app", Targets: []string{"127.0.0.1:8080"}, Labels: map[string]string{"pod": "web-1-a"}}},
			want:    `[{"job_name":"app","metrics_path":"/metrics","static_configs":[{"labels":{"pod":"web-1-a"},"targets":["127.0.0.1:8080"]}]}]`,
		},
		{name: "no-job-name", scrapes: []ScrapeConfig{{Targets: []string{"a:1"}}}, wantErr: "no job name"},
		{name: "nothing-to-scrape", scrapes: []ScrapeConfig{{JobName: "x"}}, wantErr: "neither targets nor a kubeconfig"},
		{name: "both", scrapes: []ScrapeConfig{{JobName: "x", Targets: []string{"a:1"}, Kubeconfig: "k"}}, wantErr: "both targets and a kubeconfig"},
		{name: "duplicate-jobs", scrapes: []ScrapeConfig{{JobName: "x", Targets: []string{"a:1"}}, {JobName: "x", Targets: []string{"b:1"}}}, wantErr: "two scrape configs"},
		{name: "target-with-a-path", scrapes: []ScrapeConfig{{JobName: "x", Targets: []string{"http://a:1/metrics"}}}, wantErr: "must be host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := config(tt.scrapes, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Global  map[string]string `json:"global"`
				Scrapes json.RawMessage   `json:"scrape_configs"`
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Global["scrape_interval"] != "1s" || cfg.Global["evaluation_interval"] != "1s" {
				t.Errorf("global = %v, want 1s intervals", cfg.Global)
			}
			if string(cfg.Scrapes) != tt.want {
				t.Errorf("scrape_configs =\n%s\nwant\n%s", cfg.Scrapes, tt.want)
			}
		})
	}
}
