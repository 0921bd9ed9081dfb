package faultproxy

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// upstream is a TLS server standing in for the API server: it counts the
// requests that reach it and answers 200.
func upstream(t *testing.T) (*rest.Config, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}, &hits
}

func TestRules(t *testing.T) {
	cases := []struct {
		name  string
		rule  Rule
		want  []int  // status per request; 0: the request failed
		where []bool // whether each request reached the upstream
	}{
		{"503 on the second only", Rule{Name: "r", Fault: Unavailable, Skip: 1, Count: 1}, []int{200, 503, 200}, []bool{true, false, true}},
		{"reset before forwarding", Rule{Name: "r", Fault: Reset}, []int{0, 0}, []bool{false, false}},
		{"reset after forwarding", Rule{Name: "r", Fault: ResetAfterForward, Count: 1}, []int{0, 200}, []bool{true, true}},
		{"a rule that matches nothing", Rule{Name: "r", Fault: Reset, Match: Method(http.MethodDelete)}, []int{200}, []bool{true}},
		{"a stall ends when the client gives up", Rule{Name: "r", Fault: Stall}, []int{0}, []bool{false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, hits := upstream(t)
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			p.Set(tc.rule)
			for i, want := range tc.want {
				before := hits.Load()
				got := get(t, p, 500*time.Millisecond)
				if got != want {
					t.Errorf("request %d: status %d, want %d (0: failed)", i+1, got, want)
				}
				if reached := hits.Load() > before; reached != tc.where[i] {
					t.Errorf("request %d reached the upstream: %v, want %v", i+1, reached, tc.where[i])
				}
			}
			faulted := 0
			for _, w := range tc.want {
				if w != 200 {
					faulted++
				}
			}
			if got := p.Faulted("r"); got != faulted {
				t.Errorf("Faulted = %d, want %d", got, faulted)
			}
			// A request is recorded when its handler ends, which may be
			// after the client saw the answer.
			deadline := time.Now().Add(5 * time.Second)
			for len(p.Records()) < len(tc.want) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := len(p.Records()); got != len(tc.want) {
				t.Errorf("%d records, want %d", got, len(tc.want))
			}
		})
	}
}

// TestSetReleasesStalls: a stalled request is forwarded once the rules
// change.
func TestSetReleasesStalls(t *testing.T) {
	cfg, hits := upstream(t)
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Set(Rule{Name: "stall", Fault: Stall})
	done := make(chan int)
	go func() { done <- get(t, p, 30*time.Second) }()
	for p.Faulted("stall") == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if hits.Load() != 0 {
		t.Fatal("a stalled request reached the upstream")
	}
	p.Set()
	if got := <-done; got != 200 || hits.Load() != 1 {
		t.Errorf("released request: status %d, %d upstream hits; want 200 and 1", got, hits.Load())
	}
}

// get sends one GET through the proxy and returns its status, 0 when it failed.
func get(t *testing.T, p *Proxy, timeout time.Duration) int {
	t.Helper()
	rt, err := rest.TransportFor(p.Config())
	if err != nil {
		t.Error(err)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Config().Host+"/api/v1/namespaces/ns/configmaps/a", nil)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		if !errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
