package harness

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flotilla-io/flotilla/internal/metrics"
)

func TestReconcilesSumsResultsOfOneKind(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := metrics.NewRecorder(reg)
	start := time.Now().Add(-2 * time.Second)
	rec.Observe("Stack", metrics.ResultSuccess, start)
	rec.Observe("Stack", metrics.ResultFailure, start)
	rec.Observe("GitRepository", metrics.ResultSuccess, start)

	count, seconds, err := Reconciles(reg, "Stack")
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 {
		t.Errorf("count = %v, want 2 (both results of kind Stack only)", count)
	}
	if seconds < 4 || seconds > 5 {
		t.Errorf("seconds = %v, want about 4 (two reconciles of about 2s)", seconds)
	}
	if count, _, _ := Reconciles(reg, "Nothing"); count != 0 {
		t.Errorf("count of an unknown kind = %v, want 0", count)
	}
}
