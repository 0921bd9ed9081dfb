package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// docsDir holds the user documentation, where every metric is listed.
const docsDir = "../../docs"

// exported gathers every metric the agent's recorders register, each
// touched once so that it shows.
func exported(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, n := NewRecorder(reg), NewNotifyRecorder(reg)
	r.Observe("Stack", ResultSuccess, time.Now())
	r.Drift("ns", "s", "Deployment", "corrected")
	r.Render("ns", "s")
	r.ImageScan("ns", "app", ResultSuccess, time.Now(), 1)
	n.Delivery("ns", "alert", DeliveryFailed)
	n.Webhook("202")
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return families
}

func TestEveryMetricIsDocumented(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no documentation under %s: %v", docsDir, err)
	}
	var docs strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(data)
	}
	var names []string
	for _, f := range exported(t) {
		names = append(names, f.GetName())
	}
	if len(names) != 9 {
		t.Errorf("the recorders export %d metrics %v, want 9: a new one needs its line in the docs and here", len(names), names)
	}
	for _, name := range names {
		if !strings.Contains(docs.String(), "`"+name) {
			t.Errorf("metric %s is not in the documentation (%s): add it to the metrics table of its feature", name, docsDir)
		}
	}
}

func TestMetricNamesFollowPrometheusConventions(t *testing.T) {
	for _, f := range exported(t) {
		name := f.GetName()
		if !strings.HasPrefix(name, "flotilla_") {
			t.Errorf("%s lacks the flotilla_ namespace", name)
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			if !strings.HasSuffix(name, "_seconds") {
				t.Errorf("histogram %s does not say its unit (_seconds)", name)
			}
		case dto.MetricType_COUNTER:
			if !strings.HasSuffix(name, "_total") {
				t.Errorf("counter %s does not end in _total", name)
			}
		case dto.MetricType_GAUGE:
			if strings.HasSuffix(name, "_total") {
				t.Errorf("gauge %s ends in _total, which is for counters", name)
			}
		}
	}
}
