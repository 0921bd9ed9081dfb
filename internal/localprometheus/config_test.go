package localprometheus

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// promConfig is the part of Prometheus's configuration file config
// writes, as Prometheus spells it; a strict parse fails on anything else.
type promConfig struct {
	Global struct {
		ScrapeInterval     string `json:"scrape_interval"`
		ScrapeTimeout      string `json:"scrape_timeout"`
		EvaluationInterval string `json:"evaluation_interval"`
	} `json:"global"`
	ScrapeConfigs []scrapeJob `json:"scrape_configs"`
}

type scrapeJob struct {
	JobName       string `json:"job_name"`
	MetricsPath   string `json:"metrics_path"`
	StaticConfigs []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	} `json:"static_configs"`
	HTTPSDConfigs []struct {
		URL             string `json:"url"`
		RefreshInterval string `json:"refresh_interval"`
	} `json:"http_sd_configs"`
	RelabelConfigs []relabelConfig `json:"relabel_configs"`
}

type relabelConfig struct {
	SourceLabels []string `json:"source_labels,omitempty"`
	Action       string   `json:"action,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	Replacement  string   `json:"replacement,omitempty"`
	TargetLabel  string   `json:"target_label,omitempty"`
}

// parseConfig renders scrapes and parses the result back as YAML.
func parseConfig(t *testing.T, scrapes []ScrapeConfig, discovery map[string]string) promConfig {
	t.Helper()
	b, err := config(scrapes, discovery)
	if err != nil {
		t.Fatal(err)
	}
	var cfg promConfig
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		t.Fatalf("the configuration does not parse as YAML: %v\n%s", err, b)
	}
	return cfg
}

func TestConfigGlobalIntervalsAreTheScrapeInterval(t *testing.T) {
	cfg := parseConfig(t, nil, nil)
	if cfg.Global.ScrapeInterval != "1s" || cfg.Global.ScrapeTimeout != "1s" || cfg.Global.EvaluationInterval != "1s" {
		t.Errorf("global = %+v, want every interval 1s", cfg.Global)
	}
	if cfg.ScrapeConfigs == nil {
		t.Error("scrape_configs is null, want an empty list")
	}
}

func TestConfigStaticJobs(t *testing.T) {
	cfg := parseConfig(t, []ScrapeConfig{
		{JobName: "app", Targets: []string{"127.0.0.1:8080", "127.0.0.1:8081"}},
		{JobName: "agent", Targets: []string{"[::1]:9090"}, MetricsPath: "/internal/metrics", Labels: map[string]string{"namespace": "flotilla-system", "pod": "agent-0"}},
	}, nil)
	if len(cfg.ScrapeConfigs) != 2 {
		t.Fatalf("%d jobs, want 2", len(cfg.ScrapeConfigs))
	}
	app, agent := cfg.ScrapeConfigs[0], cfg.ScrapeConfigs[1]
	if app.JobName != "app" || app.MetricsPath != "/metrics" {
		t.Errorf("app = %s at %s, want the default path /metrics", app.JobName, app.MetricsPath)
	}
	if len(app.StaticConfigs) != 1 || !cmp.Equal(app.StaticConfigs[0].Targets, []string{"127.0.0.1:8080", "127.0.0.1:8081"}) || app.StaticConfigs[0].Labels != nil {
		t.Errorf("app static configs = %+v", app.StaticConfigs)
	}
	if agent.MetricsPath != "/internal/metrics" {
		t.Errorf("agent metrics path = %s", agent.MetricsPath)
	}
	if diff := cmp.Diff(map[string]string{"namespace": "flotilla-system", "pod": "agent-0"}, agent.StaticConfigs[0].Labels); diff != "" {
		t.Errorf("agent labels (-want +got):\n%s", diff)
	}
	if app.HTTPSDConfigs != nil || app.RelabelConfigs != nil {
		t.Errorf("a static job has discovery or relabelling: %+v", app)
	}
}

func TestConfigPodDiscoveryJob(t *testing.T) {
	cfg := parseConfig(t, []ScrapeConfig{{JobName: "pods", Kubeconfig: "/tmp/kubeconfig", Namespaces: []string{"shop"}}},
		map[string]string{"pods": "http://127.0.0.1:23456/pods"})
	job := cfg.ScrapeConfigs[0]
	if len(job.HTTPSDConfigs) != 1 || job.HTTPSDConfigs[0].URL != "http://127.0.0.1:23456/pods" || job.HTTPSDConfigs[0].RefreshInterval != "1s" {
		t.Errorf("http_sd_configs = %+v, want the discovery URL refreshed every 1s", job.HTTPSDConfigs)
	}
	if job.StaticConfigs != nil {
		t.Errorf("a discovery job has static configs: %+v", job.StaticConfigs)
	}
	byTarget := map[string]relabelConfig{}
	for _, r := range job.RelabelConfigs {
		byTarget[r.TargetLabel+"/"+r.Action] = r
	}
	keep := job.RelabelConfigs[0]
	if keep.Action != "keep" || keep.Regex != "true" || !cmp.Equal(keep.SourceLabels, []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape"}) {
		t.Errorf("first relabelling = %+v, want keep of prometheus.io/scrape=true", keep)
	}
	for _, want := range []string{"__address__/replace", "__metrics_path__/replace", "namespace/", "pod/", "app/"} {
		if _, ok := byTarget[want]; !ok {
			t.Errorf("no relabelling for %s in %+v", want, job.RelabelConfigs)
		}
	}
	drop := job.RelabelConfigs[len(job.RelabelConfigs)-1]
	if drop.Action != "drop" || drop.Regex != "Pending|Succeeded|Failed" {
		t.Errorf("last relabelling = %+v, want the drop of Pods that do not run", drop)
	}
}

// TestConfigPodDiscoveryKeepsTheCallersLabels: Labels on a scrape config
// with a Kubeconfig were dropped from the rendered configuration without a
// word; they now reach every discovered target through relabelling.
func TestConfigPodDiscoveryKeepsTheCallersLabels(t *testing.T) {
	cfg := parseConfig(t, []ScrapeConfig{{JobName: "pods", Kubeconfig: "/tmp/kubeconfig",
		Labels: map[string]string{"cluster": "node-1", "env": "test"}}}, map[string]string{"pods": "http://127.0.0.1:1/pods"})
	rc := cfg.ScrapeConfigs[0].RelabelConfigs
	want := []relabelConfig{
		{Action: "replace", TargetLabel: "cluster", Replacement: "node-1"},
		{Action: "replace", TargetLabel: "env", Replacement: "test"},
	}
	if len(rc) < 2 {
		t.Fatalf("relabel_configs = %+v", rc)
	}
	if diff := cmp.Diff(want, rc[len(rc)-2:]); diff != "" {
		t.Errorf("the caller's labels in relabel_configs (-want +got):\n%s", diff)
	}
	if len(rc) != len(podRelabelling)+2 {
		t.Errorf("%d relabellings, want the %d of pod discovery and 2 labels", len(rc), len(podRelabelling))
	}
}

func TestConfigDoesNotChangeTheSharedPodRelabelling(t *testing.T) {
	n := len(podRelabelling)
	for range 2 {
		parseConfig(t, []ScrapeConfig{{JobName: "pods", Kubeconfig: "k", Labels: map[string]string{"a": "b"}}}, map[string]string{"pods": "http://x/pods"})
	}
	if len(podRelabelling) != n {
		t.Errorf("podRelabelling grew from %d to %d", n, len(podRelabelling))
	}
}

// TestConfigRefusesNamespacesWithoutPodDiscovery: Namespaces limit pod
// discovery; on a static job they were dropped without a word.
func TestConfigRefusesNamespacesWithoutPodDiscovery(t *testing.T) {
	_, err := config([]ScrapeConfig{{JobName: "app", Targets: []string{"127.0.0.1:1"}, Namespaces: []string{"shop"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `"app"`) || !strings.Contains(err.Error(), "namespaces") {
		t.Errorf("config = %v, want an error naming the job and its namespaces", err)
	}
	if err := validate([]ScrapeConfig{{JobName: "app", Targets: []string{"127.0.0.1:1"}, Namespaces: []string{"shop"}}}); err == nil {
		t.Error("validate accepted it")
	}
}

func TestConfigKeepsTheOrderOfJobs(t *testing.T) {
	var scrapes []ScrapeConfig
	for _, name := range []string{"zeta", "alpha", "mid"} {
		scrapes = append(scrapes, ScrapeConfig{JobName: name, Targets: []string{"127.0.0.1:1"}})
	}
	var got []string
	for _, j := range parseConfig(t, scrapes, nil).ScrapeConfigs {
		got = append(got, j.JobName)
	}
	if diff := cmp.Diff([]string{"zeta", "alpha", "mid"}, got); diff != "" {
		t.Errorf("job order (-want +got):\n%s", diff)
	}
}

func TestLabelRelabelling(t *testing.T) {
	if got := labelRelabelling(nil); got != nil {
		t.Errorf("no labels = %v, want none", got)
	}
	got := labelRelabelling(map[string]string{"b": "2", "a": "1"})
	if len(got) != 2 || got[0]["target_label"] != "a" || got[1]["replacement"] != "2" {
		t.Errorf("labelRelabelling = %v, want a then b", got)
	}
}
