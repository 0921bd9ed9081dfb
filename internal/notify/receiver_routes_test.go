package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// requestLog sends each reconcile request it gets on a channel, so a test
// waits for the asynchronous request without sleeping.
type requestLog chan string

func (l requestLog) RequestReconcile(_ context.Context, receiverNamespace string, res v1alpha1.EventSourceReference) error {
	l <- receiverNamespace + ":" + res.Kind + "/" + res.Name
	return nil
}

var hookReceiver = types.NamespacedName{Namespace: "apps", Name: "hook"}

// genericRoute is a route of a generic Receiver, which checks no signature.
func genericRoute(events []string, resources ...string) notify.Route {
	r := notify.Route{Receiver: hookReceiver, Verifier: notify.Verifier{Type: v1alpha1.ReceiverGeneric}, Events: events}
	for _, name := range resources {
		r.Resources = append(r.Resources, v1alpha1.EventSourceReference{Kind: "GitRepository", Name: name})
	}
	return r
}

// serve sends one request to s without a network and returns the answer.
func serve(s *notify.ReceiverServer, method, path string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, body)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestReceiverServerAnswersInPlainText(t *testing.T) {
	log := make(requestLog, 2)
	s := notify.NewReceiverServer(log, notify.ServerOptions{})
	s.Register("/hook/a", genericRoute(nil, "fleet", "apps"))
	w := serve(s, http.MethodPost, "/hook/a", strings.NewReader(`{"ref":"refs/heads/main"}`), nil)
	if w.Code != http.StatusAccepted || w.Body.String() != "reconcile requested\n" {
		t.Errorf("answer %d %q, want 202 reconcile requested", w.Code, w.Body.String())
	}
	if got := w.Header().Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	got := map[string]bool{<-log: true, <-log: true}
	for _, want := range []string{"apps:GitRepository/fleet", "apps:GitRepository/apps"} {
		if !got[want] {
			t.Errorf("reconcile requests %v, want %s among them", got, want)
		}
	}
}

func TestReceiverServerRoutes(t *testing.T) {
	s := notify.NewReceiverServer(make(requestLog, 10), notify.ServerOptions{})
	s.Register("/hook/old", genericRoute(nil, "fleet"))
	s.Register("/hook/new", genericRoute(nil, "fleet"))
	other := genericRoute(nil, "fleet")
	other.Receiver.Name = "other"
	s.Register("/hook/other", other)
	outside := genericRoute(nil, "fleet")
	outside.Receiver.Name = "outside"
	s.Register("/not-a-hook", outside)
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"the path a Receiver moved away from", "/hook/old", http.StatusNotFound},
		{"its new path", "/hook/new", http.StatusAccepted},
		{"another Receiver's path", "/hook/other", http.StatusAccepted},
		{"a path outside /hook/ is never served", "/not-a-hook", http.StatusNotFound},
		{"a prefix of a path", "/hook/ne", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := serve(s, http.MethodPost, tc.path, strings.NewReader("{}"), nil); w.Code != tc.want {
				t.Errorf("status %d, want %d", w.Code, tc.want)
			}
		})
	}
	s.Remove(hookReceiver)
	s.Remove(types.NamespacedName{Namespace: "apps", Name: "never-registered"})
	if w := serve(s, http.MethodPost, "/hook/new", strings.NewReader("{}"), nil); w.Code != http.StatusNotFound {
		t.Errorf("a removed Receiver's path: status %d, want 404", w.Code)
	}
	if w := serve(s, http.MethodPost, "/hook/other", strings.NewReader("{}"), nil); w.Code != http.StatusAccepted {
		t.Errorf("removing one Receiver stopped another: status %d", w.Code)
	}
}

func TestReceiverServerEventTypes(t *testing.T) {
	push := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {hookToken}}
	tag := http.Header{"X-Gitlab-Event": {"Tag Push Hook"}, "X-Gitlab-Token": {hookToken}}
	for _, tc := range []struct {
		name     string
		events   []string
		header   http.Header
		want     int
		wantBody string
	}{
		{"no events selected accepts any", nil, tag, http.StatusAccepted, "reconcile requested\n"},
		{"a selected event", []string{"Push Hook", "Tag Push Hook"}, tag, http.StatusAccepted, "reconcile requested\n"},
		{"an event not selected is ignored, not refused", []string{"Push Hook"}, tag, http.StatusOK, "event type not selected by the Receiver, ignored\n"},
		{"a selected event is case-sensitive", []string{"push hook"}, push, http.StatusOK, "event type not selected by the Receiver, ignored\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := make(requestLog, 1)
			s := notify.NewReceiverServer(log, notify.ServerOptions{})
			route := genericRoute(tc.events, "fleet")
			route.Verifier = notify.Verifier{Type: v1alpha1.ReceiverGitLab, Token: []byte(hookToken)}
			s.Register("/hook/a", route)
			w := serve(s, http.MethodPost, "/hook/a", strings.NewReader("{}"), tc.header)
			if w.Code != tc.want || w.Body.String() != tc.wantBody {
				t.Errorf("answer %d %q, want %d %q", w.Code, w.Body.String(), tc.want, tc.wantBody)
			}
			if tc.want == http.StatusAccepted {
				<-log
			} else if len(log) != 0 {
				t.Errorf("an ignored event requested a reconcile: %s", <-log)
			}
		})
	}
}

func TestReceiverServerRefusalsSayWhy(t *testing.T) {
	s := notify.NewReceiverServer(make(requestLog, 1), notify.ServerOptions{})
	route := genericRoute(nil, "fleet")
	route.Verifier = notify.Verifier{Type: v1alpha1.ReceiverGitHub, Token: []byte(hookToken)}
	s.Register("/hook/a", route)
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		want   string
	}{
		{"a GET", http.MethodGet, nil, "POST only\n"},
		{"no signature", http.MethodPost, nil, notify.ErrNoSignature.Error() + "\n"},
		{"a SHA-1 signature only", http.MethodPost, http.Header{"X-Hub-Signature": {"sha1=00"}}, notify.ErrSHA1Refused.Error() + "\n"},
		{"a wrong signature", http.MethodPost, http.Header{"X-Hub-Signature-256": {"sha256=00"}}, notify.ErrBadSignature.Error() + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(s, tc.method, "/hook/a", strings.NewReader("{}"), tc.header)
			if w.Body.String() != tc.want {
				t.Errorf("answer %d %q, want %q", w.Code, w.Body.String(), tc.want)
			}
			if strings.Contains(w.Body.String(), hookToken) {
				t.Errorf("the answer holds the token: %q", w.Body.String())
			}
		})
	}
}

// When every slot is taken the server answers 503 with Retry-After, and
// counts each answer by code.
func TestReceiverServerBusyAndItsMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := notify.NewReceiverServer(make(requestLog, 2), notify.ServerOptions{MaxConcurrent: 1, Metrics: metrics.NewNotifyRecorder(reg)})
	s.Register("/hook/a", genericRoute(nil, "fleet"))

	body, feed := io.Pipe()
	first := make(chan int)
	go func() { first <- serve(s, http.MethodPost, "/hook/a", body, nil).Code }()
	// The write returns once the first request reads its body, holding
	// the only slot.
	if _, err := feed.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	w := serve(s, http.MethodPost, "/hook/a", strings.NewReader("{}"), nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || w.Body.String() != "busy, retry\n" {
		t.Errorf("second request: %d, Retry-After %q, %q; want 503, 1, busy", w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}
	_, _ = feed.Write([]byte("}"))
	feed.Close()
	if code := <-first; code != http.StatusAccepted {
		t.Errorf("first request: %d, want 202", code)
	}
	if w := serve(s, http.MethodPost, "/hook/a", strings.NewReader("{}"), nil); w.Code != http.StatusAccepted {
		t.Errorf("after the slot freed: %d, want 202", w.Code)
	}
	serve(s, http.MethodGet, "/hook/a", nil, nil)
	want := `
# HELP flotilla_receiver_requests_total Webhook requests by HTTP status code answered.
# TYPE flotilla_receiver_requests_total counter
flotilla_receiver_requests_total{code="202"} 2
flotilla_receiver_requests_total{code="405"} 1
flotilla_receiver_requests_total{code="503"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flotilla_receiver_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestReceiverServerAddrAndStart(t *testing.T) {
	s := notify.NewReceiverServer(make(requestLog), notify.ServerOptions{Addr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if addr, err := s.Addr(ctx); err != context.Canceled || addr != nil {
		t.Errorf("Addr before Start with an ended context = %v, %v; want context.Canceled", addr, err)
	}
	bad := notify.NewReceiverServer(make(requestLog), notify.ServerOptions{Addr: "127.0.0.1:-1"})
	if err := bad.Start(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "webhook receiver: ") {
		t.Errorf("Start on an address that cannot be bound = %v, want a webhook receiver error", err)
	}
}
