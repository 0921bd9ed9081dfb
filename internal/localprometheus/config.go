package localprometheus

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ScrapeConfig is one scrape job: static targets, or the Pods that a
// kubeconfig's cluster runs.
type ScrapeConfig struct {
	// JobName names the job (the job label); required.
	JobName string
	// Targets are host:port addresses scraped at MetricsPath.
	Targets []string
	// Labels are added to every target: to static ones, like namespace and
	// pod for an in-process server standing in for a Pod, and to
	// discovered Pods (after, so over, the labels pod discovery sets).
	Labels map[string]string
	// Kubeconfig, when set, discovers Pods in the cluster of this
	// kubeconfig file instead of Targets, as kubernetes_sd_configs with
	// role pod does (see podDiscovery for why it is served by this
	// package). Pods are kept when running and annotated
	// prometheus.io/scrape: "true", scraped on the port of
	// prometheus.io/port (else their declared port) at prometheus.io/path
	// (else MetricsPath), and their series get the labels namespace, pod
	// and app (the Pod's app label).
	Kubeconfig string
	// Namespaces limits pod discovery; all namespaces when empty. It needs
	// a Kubeconfig.
	Namespaces []string
	// MetricsPath is the path scraped; the default is /metrics.
	MetricsPath string
}

// validate checks scrapes before anything starts.
func validate(scrapes []ScrapeConfig) error {
	_, err := config(scrapes, nil)
	return err
}

// config returns the Prometheus configuration (as YAML, in its JSON form)
// for scrapes, with a global scrape and evaluation interval of
// ScrapeInterval. discovery maps the job name of each scrape config with
// a Kubeconfig to the URL of its pod discovery.
func config(scrapes []ScrapeConfig, discovery map[string]string) ([]byte, error) {
	interval := ScrapeInterval.String()
	jobs := make([]map[string]any, 0, len(scrapes))
	seen := map[string]bool{}
	for _, sc := range scrapes {
		job, err := sc.job(discovery[sc.JobName])
		if err != nil {
			return nil, err
		}
		if seen[sc.JobName] {
			return nil, fmt.Errorf("prometheus: two scrape configs named %q", sc.JobName)
		}
		seen[sc.JobName] = true
		jobs = append(jobs, job)
	}
	return marshal(map[string]any{
		"global": map[string]any{
			"scrape_interval":     interval,
			"scrape_timeout":      interval,
			"evaluation_interval": interval,
		},
		"scrape_configs": jobs,
	})
}

// job is the scrape_configs entry of sc.
func (sc ScrapeConfig) job(discoveryURL string) (map[string]any, error) {
	if sc.JobName == "" {
		return nil, fmt.Errorf("prometheus: a scrape config has no job name")
	}
	path := sc.MetricsPath
	if path == "" {
		path = "/metrics"
	}
	job := map[string]any{"job_name": sc.JobName, "metrics_path": path}
	switch {
	case sc.Kubeconfig != "" && len(sc.Targets) > 0:
		return nil, fmt.Errorf("prometheus: scrape config %q has both targets and a kubeconfig", sc.JobName)
	case sc.Kubeconfig == "" && len(sc.Namespaces) > 0:
		return nil, fmt.Errorf("prometheus: scrape config %q has namespaces but no kubeconfig: namespaces limit pod discovery", sc.JobName)
	case sc.Kubeconfig != "":
		job["http_sd_configs"] = []any{map[string]any{"url": discoveryURL, "refresh_interval": ScrapeInterval.String()}}
		job["relabel_configs"] = append(slices.Clone(podRelabelling), labelRelabelling(sc.Labels)...)
	case len(sc.Targets) > 0:
		static := map[string]any{"targets": sc.Targets}
		if len(sc.Labels) > 0 {
			static["labels"] = sc.Labels
		}
		job["static_configs"] = []any{static}
	default:
		return nil, fmt.Errorf("prometheus: scrape config %q has neither targets nor a kubeconfig", sc.JobName)
	}
	for _, t := range sc.Targets {
		if strings.Contains(t, "/") {
			return nil, fmt.Errorf("prometheus: scrape config %q: target %q must be host:port", sc.JobName, t)
		}
	}
	return job, nil
}

// labelRelabelling sets each of labels on every target, in name order.
func labelRelabelling(labels map[string]string) []map[string]any {
	var out []map[string]any
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		out = append(out, map[string]any{"action": "replace", "target_label": name, "replacement": labels[name]})
	}
	return out
}

// podRelabelling is the usual relabelling of annotated Pods: keep those
// with prometheus.io/scrape "true", take the port and path from
// prometheus.io/port and prometheus.io/path, and label each series with
// the Pod's namespace, name and app label.
var podRelabelling = []map[string]any{
	{
		"source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape"},
		"action":        "keep",
		"regex":         "true",
	},
	{
		"source_labels": []string{"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"},
		"action":        "replace",
		"regex":         `([^:]+)(?::\d+)?;(\d+)`,
		"replacement":   "$1:$2",
		"target_label":  "__address__",
	},
	{
		"source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_path"},
		"action":        "replace",
		"regex":         "(.+)",
		"target_label":  "__metrics_path__",
	},
	{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
	{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
	{"source_labels": []string{"__meta_kubernetes_pod_label_app"}, "target_label": "app"},
	{
		"source_labels": []string{"__meta_kubernetes_pod_phase"},
		"action":        "drop",
		"regex":         "Pending|Succeeded|Failed",
	},
}
