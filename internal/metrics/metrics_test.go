package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestObserveCountsByKindAndResult(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewRecorder(reg)
	r.Observe("GitRepository", ResultSuccess, time.Now())
	r.Observe("GitRepository", ResultSuccess, time.Now())
	r.Observe("GitRepository", ResultFailure, time.Now())
	want := `
# HELP flotilla_reconcile_total Reconciles finished, by kind and result.
# TYPE flotilla_reconcile_total counter
flotilla_reconcile_total{kind="GitRepository",result="failure"} 1
flotilla_reconcile_total{kind="GitRepository",result="success"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flotilla_reconcile_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(r.duration); n != 2 {
		t.Fatalf("duration series = %d, want 2", n)
	}
}

func TestNilRecorderIsSafe(t *testing.T) {
	var r *Recorder
	r.Observe("Stack", ResultSuccess, time.Now()) // must not panic
}

func TestSecondRecorderSharesTheRegisteredMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewRecorder(reg), NewRecorder(reg)
	a.Observe("Stack", ResultSuccess, time.Now())
	b.Observe("Stack", ResultSuccess, time.Now())
	if got := testutil.ToFloat64(a.total.WithLabelValues("Stack", ResultSuccess)); got != 2 {
		t.Fatalf("shared counter = %v, want 2", got)
	}
}

func TestDriftCountsByStackKindAndAction(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewRecorder(reg)
	r.Drift("flotilla-system", "apps", "Deployment", "corrected")
	r.Drift("flotilla-system", "apps", "Deployment", "corrected")
	if got := testutil.ToFloat64(r.drift.WithLabelValues("flotilla-system", "apps", "Deployment", "corrected")); got != 2 {
		t.Fatalf("drift counter = %v, want 2", got)
	}
	var nilRecorder *Recorder
	nilRecorder.Drift("a", "b", "c", "d") // must not panic
}

func TestRenderCountsByStack(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewRecorder(reg)
	r.Render("flotilla-system", "cluster")
	r.Render("flotilla-system", "cluster")
	r.Render("apps", "web")
	want := `
# HELP flotilla_render_total Renders (kustomize builds) of a Stack's path, by Stack; a reconcile whose inputs did not change reuses the last render.
# TYPE flotilla_render_total counter
flotilla_render_total{namespace="apps",stack="web"} 1
flotilla_render_total{namespace="flotilla-system",stack="cluster"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flotilla_render_total"); err != nil {
		t.Fatal(err)
	}
	var nilRecorder *Recorder
	nilRecorder.Render("a", "b") // must not panic
}
