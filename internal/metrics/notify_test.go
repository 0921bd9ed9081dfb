package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDeliveryCountsAndTheFailingGauge(t *testing.T) {
	for _, tc := range []struct {
		name        string
		results     []string
		wantFailing string
	}{
		{"a failure raises the gauge", []string{DeliveryFailed}, `flotilla_notification_delivery_failing{alert="fleet",namespace="ops"} 1`},
		{"a success after a failure lowers it", []string{DeliveryFailed, DeliverySucceeded}, `flotilla_notification_delivery_failing{alert="fleet",namespace="ops"} 0`},
		{"a drop leaves the last state", []string{DeliveryFailed, DeliveryDropped}, `flotilla_notification_delivery_failing{alert="fleet",namespace="ops"} 1`},
		{"a drop alone sets no gauge", []string{DeliveryDropped}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			r := NewNotifyRecorder(reg)
			for _, res := range tc.results {
				r.Delivery("ops", "fleet", res)
			}
			want := ""
			if tc.wantFailing != "" {
				want = "# HELP flotilla_notification_delivery_failing 1 while the last message of an Alert could not be delivered after every retry, else 0.\n" +
					"# TYPE flotilla_notification_delivery_failing gauge\n" + tc.wantFailing + "\n"
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flotilla_notification_delivery_failing"); err != nil {
				t.Error(err)
			}
			if got := testutil.CollectAndCount(r.deliveries); got != len(unique(tc.results)) {
				t.Errorf("delivery series = %d, want one per result seen (%d)", got, len(unique(tc.results)))
			}
		})
	}
}

func unique(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func TestWebhookCountsByCode(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewNotifyRecorder(reg)
	for _, code := range []string{"202", "202", "401"} {
		r.Webhook(code)
	}
	want := `
# HELP flotilla_receiver_requests_total Webhook requests by HTTP status code answered.
# TYPE flotilla_receiver_requests_total counter
flotilla_receiver_requests_total{code="202"} 2
flotilla_receiver_requests_total{code="401"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flotilla_receiver_requests_total"); err != nil {
		t.Fatal(err)
	}
}

func TestNilRecordersAreSafe(t *testing.T) {
	var n *NotifyRecorder
	n.Delivery("a", "b", DeliveryFailed)
	n.Webhook("500")
	var r *Recorder
	r.Drift("a", "b", "c", "d")
	r.Render("a", "b")
	r.ImageScan("a", "b", ResultSuccess, time.Now(), 3)
	r.ForgetImageRepository("a", "b")
}

func TestSecondNotifyRecorderSharesTheRegisteredMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewNotifyRecorder(reg), NewNotifyRecorder(reg)
	a.Webhook("202")
	b.Webhook("202")
	if got := testutil.ToFloat64(a.webhooks.WithLabelValues("202")); got != 2 {
		t.Errorf("shared counter = %v, want 2", got)
	}
}

func TestRegisterPanicsOnAConflictingDefinition(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewNotifyRecorder(reg)
	defer func() {
		if recover() == nil {
			t.Error("registering another metric under the same name with other labels did not panic")
		}
	}()
	register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flotilla_receiver_requests_total", Help: "Webhook requests by HTTP status code answered.",
	}, []string{"path"}))
}

func TestForgetImageRepositoryDropsOnlyItsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewRecorder(reg)
	r.ImageScan("a", "app", ResultSuccess, time.Now(), 4)
	r.ImageScan("a", "app", ResultFailure, time.Now(), 0)
	r.ImageScan("a", "other", ResultSuccess, time.Now(), 7)
	r.ForgetImageRepository("a", "app")
	if n := testutil.CollectAndCount(r.scans.duration); n != 1 {
		t.Errorf("duration series after forgetting a/app = %d, want a/other's only", n)
	}
	want := `
# HELP flotilla_image_tags Tags kept by the last successful scan of an ImageRepository.
# TYPE flotilla_image_tags gauge
flotilla_image_tags{name="other",namespace="a"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flotilla_image_tags"); err != nil {
		t.Error(err)
	}
}

func TestAFailedScanKeepsTheLastTagCount(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewRecorder(reg)
	r.ImageScan("a", "app", ResultSuccess, time.Now(), 4)
	r.ImageScan("a", "app", ResultFailure, time.Now(), 0)
	if got := testutil.ToFloat64(r.scans.tags.WithLabelValues("a", "app")); got != 4 {
		t.Errorf("tags after a failed scan = %v, want the last success's 4", got)
	}
}
