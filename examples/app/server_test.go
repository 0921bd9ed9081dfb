package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestEndpoints(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	tests := []struct {
		name, method, path string
		wantCode           int
		wantBody           string
	}{
		{name: "root-says-who-it-is", method: "GET", path: "/", wantCode: 200, wantBody: `"version":"v1.2.3"`},
		{name: "version", method: "GET", path: "/version", wantCode: 200, wantBody: `{"version":"v1.2.3"}`},
		{name: "healthz", method: "GET", path: "/healthz", wantCode: 200, wantBody: "ok"},
		{name: "readyz", method: "GET", path: "/readyz", wantCode: 200, wantBody: "ok"},
		{name: "metrics", method: "GET", path: "/metrics", wantCode: 200, wantBody: "# TYPE http_requests_total counter"},
		{name: "unknown-path", method: "GET", path: "/nope", wantCode: 404},
		{name: "post-is-not-allowed", method: "POST", path: "/", wantCode: 405},
	}
	s := NewServer(DefaultOptions())
	h := s.Handler()
	get(t, h, "GET", "/") // so /metrics has a sample of each metric
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.path)
			if rec.Code != tt.wantCode {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.wantCode)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("%s %s body = %q, want it to contain %q", tt.method, tt.path, rec.Body, tt.wantBody)
			}
		})
	}
}

func TestRootInfo(t *testing.T) {
	o := DefaultOptions()
	o.Name, o.Message = "shop", "hi"
	s := NewServer(o)
	s.hostname = "pod-1"
	rec := get(t, s.Handler(), "GET", "/")
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got Info
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if want := (Info{App: "shop", Version: version, Message: "hi", Hostname: "pod-1"}); got != want {
		t.Errorf("/ = %+v, want %+v", got, want)
	}
}

func TestReadiness(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		readyAfter time.Duration
		elapsed    time.Duration
		drain      bool
		wantCode   int
		wantBody   string
	}{
		{name: "ready-at-once", wantCode: 200, wantBody: "ok"},
		{name: "starting", readyAfter: 10 * time.Second, elapsed: 9 * time.Second, wantCode: 503, wantBody: "starting"},
		{name: "ready-after-the-delay", readyAfter: 10 * time.Second, elapsed: 10 * time.Second, wantCode: 200, wantBody: "ok"},
		{name: "draining", drain: true, wantCode: 503, wantBody: "draining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.ReadyAfter = tt.readyAfter
			s := NewServer(o)
			s.readyAt = start.Add(tt.readyAfter)
			s.now = func() time.Time { return start.Add(tt.elapsed) }
			if tt.drain {
				s.Drain()
			}
			rec := get(t, s.Handler(), "GET", "/readyz")
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("/readyz = %d %q, want %d %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
			if live := get(t, s.Handler(), "GET", "/healthz"); live.Code != 200 {
				t.Errorf("/healthz = %d while %s, want 200", live.Code, tt.name)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	s := NewServer(DefaultOptions())
	h := s.Handler()
	for _, p := range []string{"/", "/", "/version", "/healthz", "/readyz", "/metrics"} {
		get(t, h, "GET", p)
	}
	families, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	requests := byName["http_requests_total"]
	if requests.GetType() != dto.MetricType_COUNTER {
		t.Fatalf("http_requests_total is %v, want a counter", requests.GetType())
	}
	if got := sampleLabels(requests); !cmp.Equal(got, []map[string]string{{"code": "200", "method": "get"}}) {
		t.Errorf("http_requests_total labels = %v, want one series code=200 method=get", got)
	}
	if got := requests.GetMetric()[0].GetCounter().GetValue(); got != 3 {
		t.Errorf("http_requests_total = %v, want 3 (/, / and /version; probes and scrapes do not count)", got)
	}
	duration := byName["http_request_duration_seconds"]
	if duration.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("http_request_duration_seconds is %v, want a histogram", duration.GetType())
	}
	h0 := duration.GetMetric()[0].GetHistogram()
	if h0.GetSampleCount() != 3 || len(h0.GetBucket()) != 11 {
		t.Errorf("histogram: %d samples in %d buckets, want 3 in the 11 default buckets", h0.GetSampleCount(), len(h0.GetBucket()))
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if byName[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

func sampleLabels(f *dto.MetricFamily) []map[string]string {
	var out []map[string]string
	for _, m := range f.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		out = append(out, l)
	}
	return out
}
