package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestImageScanRecordsDurationAndTagCount(t *testing.T) {
	r := NewRecorder(prometheus.NewRegistry())
	r.ImageScan("apps", "podinfo", ResultSuccess, time.Now(), 42)
	r.ImageScan("apps", "podinfo", ResultFailure, time.Now(), 0)
	if got := testutil.ToFloat64(r.scans.tags.WithLabelValues("apps", "podinfo")); got != 42 {
		t.Fatalf("tags = %v, want 42 (a failed scan keeps the last count)", got)
	}
	if n := testutil.CollectAndCount(r.scans.duration); n != 2 {
		t.Fatalf("duration series = %d, want 2", n)
	}
	r.ForgetImageRepository("apps", "podinfo")
	if n := testutil.CollectAndCount(r.scans.tags) + testutil.CollectAndCount(r.scans.duration); n != 0 {
		t.Fatalf("%d series left after Forget", n)
	}
	var nilRecorder *Recorder
	nilRecorder.ImageScan("a", "b", ResultSuccess, time.Now(), 1) // must not panic
}
