package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// recordingRequester stands in for the API server in unit tests of the
// HTTP layer: it records the reconcile requests the server makes, and can
// hold them to show coalescing. The envtest tests use the real one.
type recordingRequester struct {
	calls atomic.Int32
	hold  chan struct{}
}

func (r *recordingRequester) RequestReconcile(_ context.Context, _ string, _ v1alpha1.EventSourceReference) error {
	r.calls.Add(1)
	if r.hold != nil {
		<-r.hold
	}
	return nil
}

const hookToken = "hook-token-value"

// startServer runs a ReceiverServer with one route of typ and returns its
// base URL and the route's path.
func startServer(t *testing.T, req notify.Requester, typ string, opts notify.ServerOptions) (string, string) {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	s := notify.NewReceiverServer(req, opts)
	path := notify.WebhookPath(hookToken, "hook", "apps")
	s.Register(path, notify.Route{
		Receiver:  types.NamespacedName{Namespace: "apps", Name: "hook"},
		Verifier:  notify.Verifier{Type: typ, Token: []byte(hookToken)},
		Events:    []string{"push"},
		Resources: []v1alpha1.EventSourceReference{{Kind: "GitRepository", Name: "fleet"}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	addr, err := s.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr.String(), path
}

func post(t *testing.T, url string, body io.Reader, headers map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func githubHeaders(body []byte, key string) map[string]string {
	return map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + notify.Sign([]byte(key), body), "Content-Type": "application/json"}
}

func TestReceiverServer(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main","after":"` + testSHA + `"}`)
	cases := []struct {
		name      string
		path      string // "" is the route's
		method    string
		body      []byte
		headers   map[string]string
		want      int
		reconcile bool
	}{
		{"signed push", "", http.MethodPost, body, githubHeaders(body, hookToken), http.StatusAccepted, true},
		{"wrong key", "", http.MethodPost, body, githubHeaders(body, "guess"), http.StatusUnauthorized, false},
		{"no signature", "", http.MethodPost, body, map[string]string{"X-GitHub-Event": "push"}, http.StatusUnauthorized, false},
		{"body changed after signing", "", http.MethodPost, append(bytes.Clone(body), ' '), githubHeaders(body, hookToken), http.StatusUnauthorized, false},
		{"signed but not JSON", "", http.MethodPost, []byte("{"), githubHeaders([]byte("{"), hookToken), http.StatusBadRequest, false},
		{"event type not selected", "", http.MethodPost, body, map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": githubHeaders(body, hookToken)["X-Hub-Signature-256"]}, http.StatusOK, false},
		{"ping", "", http.MethodPost, body, map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": githubHeaders(body, hookToken)["X-Hub-Signature-256"]}, http.StatusOK, false},
		{"unknown path", "/hook/0000", http.MethodPost, body, githubHeaders(body, hookToken), http.StatusNotFound, false},
		{"GET", "", http.MethodGet, nil, nil, http.StatusMethodNotAllowed, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recordingRequester{}
			base, path := startServer(t, r, "github", notify.ServerOptions{})
			if tc.path != "" {
				path = tc.path
			}
			req, _ := http.NewRequest(tc.method, base+path, bytes.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			waitCalls(t, r, tc.reconcile)
		})
	}
}

// waitCalls checks that a reconcile was requested (it runs after the
// answer) or, when not wanted, that none was.
func waitCalls(t *testing.T, r *recordingRequester, want bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for want && r.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := r.calls.Load() > 0; got != want {
		t.Errorf("reconcile requested: %v, want %v", got, want)
	}
}

// A body over 3 MiB gets 413, announced or streamed, and nothing is reconciled.
func TestReceiverServerCapsTheBody(t *testing.T) {
	r := &recordingRequester{}
	base, path := startServer(t, r, "github", notify.ServerOptions{})
	big := bytes.Repeat([]byte("a"), notify.MaxBodyBytes+1)
	if code := post(t, base+path, bytes.NewReader(big), githubHeaders(big, hookToken)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("announced body: status %d, want 413", code)
	}
	// No Content-Length: the server finds out while reading.
	streamed := io.MultiReader(bytes.NewReader(big), strings.NewReader(""))
	if code := post(t, base+path, struct{ io.Reader }{streamed}, githubHeaders(big, hookToken)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed body: status %d, want 413", code)
	}
	waitCalls(t, r, false)
}

// Many bad requests in a burst are all refused and reconcile nothing.
func TestReceiverServerRefusesABurstOfBadSignatures(t *testing.T) {
	r := &recordingRequester{}
	base, path := startServer(t, r, "generic-hmac", notify.ServerOptions{})
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for i := range 1000 {
		wg.Go(func() {
			body := fmt.Appendf(nil, `{"n":%d}`, i)
			code := post(t, base+path, bytes.NewReader(body), map[string]string{"X-Signature": "sha256=" + notify.Sign([]byte("guess"), body)})
			if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 0 || r.calls.Load() != 0 {
		t.Errorf("%d bad requests not refused, %d reconciles requested", accepted.Load(), r.calls.Load())
	}
}

// Requests for the same object while one reconcile request is in flight
// collapse into one more.
func TestReceiverServerCoalesces(t *testing.T) {
	r := &recordingRequester{hold: make(chan struct{})}
	base, path := startServer(t, r, "gitlab", notify.ServerOptions{MaxConcurrent: 100})
	h := map[string]string{"X-Gitlab-Token": hookToken, "X-Gitlab-Event": "push"}
	if code := post(t, base+path, strings.NewReader(`{}`), h); code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	waitCalls(t, r, true)
	for range 50 {
		if code := post(t, base+path, strings.NewReader(`{}`), h); code != http.StatusAccepted {
			t.Fatalf("status %d", code)
		}
	}
	close(r.hold)
	time.Sleep(200 * time.Millisecond) // let the one queued request run
	if got := r.calls.Load(); got != 2 {
		t.Errorf("%d reconcile requests for 51 webhooks, want 2 (one in flight, one after)", got)
	}
}

func TestWebhookPathIsFluxs(t *testing.T) {
	// printf tokennamenamespace | sha256sum
	const want = "/hook/033cd85fb94eef8b750b62b37d50fa65adb47b1f0ab5d6a8f9f6692e516e686a"
	if got := notify.WebhookPath("token", "name", "namespace"); got != want {
		t.Errorf("WebhookPath = %q, want %q", got, want)
	}
}
