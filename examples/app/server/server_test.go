package server

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
	o := DefaultOptions()
	o.Version = "v1.2.3"
	s := NewServer(o)
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
	if want := (Info{App: "shop", Version: "dev", Message: "hi", Hostname: "pod-1"}); got != want {
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

func TestFailureSwitches(t *testing.T) {
	tests := []struct {
		name         string
		errorPercent int
		requests     int
		want500      int
	}{
		{name: "healthy", errorPercent: 0, requests: 100, want500: 0},
		{name: "thirty-percent-of-each-hundred", errorPercent: 30, requests: 200, want500: 60},
		{name: "one-percent", errorPercent: 1, requests: 100, want500: 1},
		{name: "broken", errorPercent: 100, requests: 50, want500: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.ErrorPercent = tt.errorPercent
			s := NewServer(o)
			h := s.Handler()
			got500 := 0
			for i := range tt.requests {
				path := "/"
				if i%2 == 1 {
					path = "/version"
				}
				rec := get(t, h, "GET", path)
				switch rec.Code {
				case http.StatusInternalServerError:
					got500++
					if !strings.Contains(rec.Body.String(), "APP_ERROR_PERCENT") {
						t.Errorf("500 body = %q, want it to name APP_ERROR_PERCENT", rec.Body)
					}
				case http.StatusOK:
				default:
					t.Fatalf("GET %s = %d", path, rec.Code)
				}
			}
			if got500 != tt.want500 {
				t.Errorf("%d of %d requests answered 500, want %d", got500, tt.requests, tt.want500)
			}
			if c := counterByCode(t, s)["500"]; int(c) != tt.want500 {
				t.Errorf("http_requests_total{code=500} = %v, want %d", c, tt.want500)
			}
			for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
				if rec := get(t, h, "GET", p); rec.Code != http.StatusOK {
					t.Errorf("GET %s = %d with error percent %d: probes and scrapes never fail on purpose", p, rec.Code, tt.errorPercent)
				}
			}
		})
	}
}

func TestDelaySlowsTrafficOnly(t *testing.T) {
	o := DefaultOptions()
	o.Delay = 300 * time.Millisecond
	s := NewServer(o)
	h := s.Handler()
	for range 2 {
		if rec := get(t, h, "GET", "/version"); rec.Code != http.StatusOK {
			t.Fatalf("GET /version = %d", rec.Code)
		}
	}
	families, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "http_request_duration_seconds" {
			continue
		}
		hist := f.GetMetric()[0].GetHistogram()
		if hist.GetSampleCount() != 2 || hist.GetSampleSum() < 0.6 {
			t.Errorf("duration histogram: %d samples summing %vs, want 2 of at least 0.3s each", hist.GetSampleCount(), hist.GetSampleSum())
		}
		return
	}
	t.Fatal("no http_request_duration_seconds")
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "defaults", mutate: func(*Options) {}},
		{name: "broken-app", mutate: func(o *Options) { o.ErrorPercent = 100 }},
		{name: "more-than-all", mutate: func(o *Options) { o.ErrorPercent = 101 }, wantErr: "want 0 to 100"},
		{name: "negative-percent", mutate: func(o *Options) { o.ErrorPercent = -1 }, wantErr: "want 0 to 100"},
		{name: "negative-delay", mutate: func(o *Options) { o.Delay = -time.Second }, wantErr: "want 0 or more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.mutate(&o)
			err := o.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func counterByCode(t *testing.T, s *Server) map[string]float64 {
	t.Helper()
	families, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
