package localprometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// answer is one reply of a fake Prometheus to /api/v1/query.
type answer struct {
	code int
	body string
}

// Bodies in the Prometheus HTTP API format.
const (
	emptyVector = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	oneSample   = `{"status":"success","data":{"resultType":"vector","result":[` +
		`{"metric":{"__name__":"flotilla_test_value","job":"app","pod":"web-1"},"value":[1700000000.5,"42"]}]}}`
	scalarOne = `{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"1"]}}`
	badData   = `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:13: parse error: unexpected end of input"}`
	execution = `{"status":"error","errorType":"execution","error":"query timed out in expression evaluation"}`
)

// fakePrometheus answers /api/v1/query with answers in turn, repeating the
// last one, and records the queries it got.
type fakePrometheus struct {
	mu      sync.Mutex
	answers []answer
	queries []string
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	f.queries = append(f.queries, r.Form.Get("query"))
	a := f.answers[0]
	if len(f.answers) > 1 {
		f.answers = f.answers[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	fmt.Fprint(w, a.body)
}

func (f *fakePrometheus) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queries)
}

// serverFor is a Server whose API is the fake's.
func serverFor(t *testing.T, answers ...answer) (*Server, *fakePrometheus) {
	t.Helper()
	f := &fakePrometheus{answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &Server{url: srv.URL}, f
}

func TestWaitForReturnsTheFirstNonEmptyVector(t *testing.T) {
	s, f := serverFor(t, answer{200, emptyVector}, answer{200, emptyVector}, answer{200, oneSample})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vec, err := s.WaitFor(ctx, `flotilla_test_value{job="app"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(vec) != 1 || vec[0].Value != 42 || vec[0].Metric["pod"] != "web-1" {
		t.Errorf("vector = %v, want flotilla_test_value 42 of pod web-1", vec)
	}
	if f.calls() != 3 {
		t.Errorf("%d queries, want 3 (two empty answers, then samples)", f.calls())
	}
	if f.queries[0] != `flotilla_test_value{job="app"}` {
		t.Errorf("query sent = %q", f.queries[0])
	}
}

// TestWaitForFailsAtOnceOnAQueryPrometheusRefuses: before the fix a query
// that does not parse was retried every second until the caller's
// deadline, and the test failed minutes later with a timeout.
func TestWaitForFailsAtOnceOnAQueryPrometheusRefuses(t *testing.T) {
	s, f := serverFor(t, answer{http.StatusBadRequest, badData})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.WaitFor(ctx, `sum(rate(x[1m]`)
	if err == nil {
		t.Fatal("WaitFor succeeded on a query Prometheus refuses")
	}
	if f.calls() != 1 {
		t.Errorf("%d queries, want 1: a bad query is not retried", f.calls())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want Prometheus's answer, not a timeout", err)
	}
	if !strings.Contains(err.Error(), "parse error: unexpected end of input") || !strings.Contains(err.Error(), "sum(rate(x[1m]") {
		t.Errorf("error = %v, want Prometheus's message and the query", err)
	}
	var apiErr *promv1.Error
	if !errors.As(err, &apiErr) || apiErr.Type != promv1.ErrBadData {
		t.Errorf("error = %#v, want a *promv1.Error of type bad_data", err)
	}
}

func TestWaitForRetriesPassingErrors(t *testing.T) {
	tests := []struct {
		name  string
		first answer
	}{
		{"execution-error", answer{http.StatusUnprocessableEntity, execution}},
		{"unavailable", answer{http.StatusServiceUnavailable, `{"status":"error","errorType":"unavailable","error":"starting up"}`}},
		{"a-proxy-error-page", answer{http.StatusBadGateway, "<html>bad gateway</html>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := serverFor(t, tt.first, answer{200, oneSample})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			vec, err := s.WaitFor(ctx, "flotilla_test_value")
			if err != nil || len(vec) != 1 {
				t.Fatalf("WaitFor = %v, %v, want the samples after a retry", vec, err)
			}
			if f.calls() != 2 {
				t.Errorf("%d queries, want 2", f.calls())
			}
		})
	}
}

func TestWaitForTimesOutWithTheLastReason(t *testing.T) {
	tests := []struct {
		name    string
		answer  answer
		wantErr string
	}{
		{"empty-vector", answer{200, emptyVector}, "no samples yet"},
		{"not-a-vector", answer{200, scalarOne}, "no samples yet (result scalar: 1 @["},
		{"execution-error", answer{http.StatusUnprocessableEntity, execution}, "query timed out in expression evaluation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := serverFor(t, tt.answer)
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			_, err := s.WaitFor(ctx, "up")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want the deadline", err)
			}
			if !strings.Contains(err.Error(), "waiting for up") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want the query and %q", err, tt.wantErr)
			}
		})
	}
}

func TestWaitForWithNothingListening(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	s := &Server{url: srv.URL}
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := s.WaitFor(ctx, "up")
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error = %v, want the connection error as the last reason", err)
	}
}

func TestAPIRefusesABadAddress(t *testing.T) {
	s := &Server{url: "http://[::1"}
	if _, err := s.API(); err == nil || !strings.Contains(err.Error(), "http://[::1") {
		t.Errorf("API = %v, want an error naming the address", err)
	}
	if _, err := s.WaitFor(context.Background(), "up"); err == nil {
		t.Error("WaitFor with a bad address succeeded")
	}
}

func TestAPIQueriesTheServer(t *testing.T) {
	s, _ := serverFor(t, answer{200, oneSample})
	a, err := s.API()
	if err != nil {
		t.Fatal(err)
	}
	v, warnings, err := a.Query(context.Background(), "flotilla_test_value", time.Time{})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("Query = %v, %v", warnings, err)
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) != 1 || vec[0].Timestamp != model.TimeFromUnixNano(1700000000500000000) {
		t.Errorf("result = %v, want one sample at 1700000000.5", v)
	}
}
