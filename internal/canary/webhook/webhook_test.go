package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// receiver is a local webhook receiver that records each request and
// checks it against Flagger's documented format.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	status int
	answer string
}

func newReceiver(t *testing.T, status int, answer string) *receiver {
	r := &receiver{t: t, status: status, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		r.t.Errorf("method = %s, want POST", req.Method)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.t.Errorf("Content-Type = %q, want application/json", ct)
	}
	b, _ := io.ReadAll(req.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		r.t.Errorf("body %q is not a JSON object: %v", b, err)
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	w.WriteHeader(r.status)
	_, _ = io.WriteString(w, r.answer)
}

func (r *receiver) received() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

func testCanary(hooks ...v1alpha1.CanaryWebhook) *v1alpha1.Canary {
	return &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec:       v1alpha1.CanarySpec{Analysis: v1alpha1.CanaryAnalysis{Webhooks: hooks}},
		Status: v1alpha1.CanaryStatus{
			Phase: v1alpha1.CanaryPhaseProgressing, LastAppliedSpec: "5d8f7b9c6",
			TrackedConfigs: map[string]string{"configmap/podinfo-config": "abc"},
		},
	}
}

func TestCallSendsFlaggersPayload(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK, "")
	c := testCanary()
	tests := []struct {
		name string
		hook v1alpha1.CanaryWebhook
		want map[string]any
	}{
		{
			name: "with-metadata",
			hook: v1alpha1.CanaryWebhook{Name: "load test", Type: v1alpha1.RolloutHook, URL: rcv.srv.URL + "/",
				Metadata: map[string]string{"cmd": "hey -z 1m http://podinfo-canary.test:9898/"}},
			want: map[string]any{"name": "podinfo", "namespace": "test", "phase": "Progressing", "checksum": Checksum(c),
				"metadata": map[string]any{"cmd": "hey -z 1m http://podinfo-canary.test:9898/"}},
		},
		{
			name: "without-metadata-the-key-is-absent",
			hook: v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmRolloutHook, URL: rcv.srv.URL + "/gate/approve"},
			want: map[string]any{"name": "podinfo", "namespace": "test", "phase": "Progressing", "checksum": Checksum(c)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rcv.received())
			if err := New().Call(context.Background(), c, tt.hook, v1alpha1.CanaryPhaseProgressing); err != nil {
				t.Fatal(err)
			}
			got := rcv.received()
			if len(got) != before+1 {
				t.Fatalf("%d requests, want one more than %d", len(got), before)
			}
			if diff := cmp.Diff(tt.want, got[len(got)-1]); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCallPassesThePhaseItIsGiven(t *testing.T) {
	rcv := newReceiver(t, http.StatusAccepted, "")
	hook := v1alpha1.CanaryWebhook{Name: "promotion gate", Type: v1alpha1.ConfirmPromotionHook, URL: rcv.srv.URL}
	if err := New().Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseWaitingPromotion); err != nil {
		t.Fatalf("202 is a success: %v", err)
	}
	if got := rcv.received()[0]["phase"]; got != "WaitingPromotion" {
		t.Errorf("phase = %v, want WaitingPromotion", got)
	}
}

func TestCallFailures(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	refusing := newReceiver(t, http.StatusForbidden, "gate closed for "+token)
	redirecting := httptest.NewServer(http.RedirectHandler("http://example.invalid/", http.StatusFound))
	t.Cleanup(redirecting.Close)
	// hanging reads the request, then answers only when the client has
	// gone (or after a minute, so that a broken client cannot hang the
	// test).
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(hanging.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	withSecrets := func(base string) string {
		return strings.Replace(base, "http://", "http://user:"+token+"@", 1) + "/gate/check?token=" + token
	}
	tests := []struct {
		name       string
		hook       v1alpha1.CanaryWebhook
		wantStatus int
		want       []string
	}{
		{
			name:       "non-2xx-names-hook-host-and-status",
			hook:       v1alpha1.CanaryWebhook{Name: "start gate", Type: v1alpha1.ConfirmRolloutHook, URL: withSecrets(refusing.srv.URL)},
			wantStatus: http.StatusForbidden,
			want:       []string{`webhook "start gate" (confirm-rollout) at ` + strings.TrimPrefix(refusing.srv.URL, "http://"), "answered 403 Forbidden", "gate closed for *****"},
		},
		{
			name:       "a-redirect-is-not-followed",
			hook:       v1alpha1.CanaryWebhook{Name: "moved", URL: withSecrets(redirecting.URL)},
			wantStatus: http.StatusFound,
			want:       []string{`webhook "moved" (rollout)`, "answered 302 Found"},
		},
		{
			name: "no-answer-in-time",
			hook: v1alpha1.CanaryWebhook{Name: "slow", URL: withSecrets(hanging.URL), Timeout: "200ms"},
			want: []string{`webhook "slow" (rollout) at ` + strings.TrimPrefix(hanging.URL, "http://"), "no answer in time"},
		},
		{
			name: "server-down",
			hook: v1alpha1.CanaryWebhook{Name: "down", URL: withSecrets(closed.URL)},
			want: []string{`webhook "down" (rollout) at ` + strings.TrimPrefix(closed.URL, "http://"), "connection refused"},
		},
		{
			name: "bad-timeout",
			hook: v1alpha1.CanaryWebhook{Name: "typo", URL: refusing.srv.URL, Timeout: "soon"},
			want: []string{`timeout "soon" is not a positive duration`},
		},
		{
			name: "bad-url",
			hook: v1alpha1.CanaryWebhook{Name: "broken", URL: "http://%zz/" + token},
			want: []string{`webhook "broken" (rollout) at (invalid URL)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Call(context.Background(), testCanary(), tt.hook, v1alpha1.CanaryPhaseProgressing)
			var werr *Error
			if !errors.As(err, &werr) {
				t.Fatalf("Call = %v, want an *Error", err)
			}
			if werr.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", werr.StatusCode, tt.wantStatus)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "user:") {
				t.Errorf("error %q carries the URL's credentials or query", err)
			}
		})
	}
}

func TestEventGoesToEventHooksOnly(t *testing.T) {
	events := newReceiver(t, http.StatusOK, "")
	rollout := newReceiver(t, http.StatusOK, "")
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c := testCanary(
		v1alpha1.CanaryWebhook{Name: "load test", Type: v1alpha1.RolloutHook, URL: rollout.srv.URL},
		v1alpha1.CanaryWebhook{Name: "broken receiver", Type: v1alpha1.EventHook, URL: down.URL},
		v1alpha1.CanaryWebhook{Name: "send to Slack", Type: v1alpha1.EventHook, URL: events.srv.URL,
			Metadata: map[string]string{"channel": "#deploys", "eventType": "not this one"}},
	)
	at := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	New(WithClock(func() time.Time { return at })).Event(context.Background(), c, "Normal", "Advance podinfo.test canary weight 10")
	want := []map[string]any{{
		"name": "podinfo", "namespace": "test", "phase": "Progressing", "checksum": Checksum(c),
		"metadata": map[string]any{
			"eventMessage": "Advance podinfo.test canary weight 10",
			"eventType":    "Normal",
			"timestamp":    "1796317200000",
			"channel":      "#deploys",
		},
	}}
	if diff := cmp.Diff(want, events.received()); diff != "" {
		t.Errorf("event payloads (-want +got):\n%s", diff)
	}
	if n := len(rollout.received()); n != 0 {
		t.Errorf("the rollout hook got %d events, want none", n)
	}
}

func TestChecksum(t *testing.T) {
	base := testCanary()
	same := testCanary()
	if Checksum(base) != Checksum(same) {
		t.Error("the same revision has two checksums")
	}
	if got := Checksum(base); len(got) != 16 {
		t.Errorf("checksum %q, want 16 hex digits", got)
	}
	newSpec := testCanary()
	newSpec.Status.LastAppliedSpec = "6f9a8c0d7"
	newConfig := testCanary()
	newConfig.Status.TrackedConfigs["configmap/podinfo-config"] = "abd"
	moreConfig := testCanary()
	moreConfig.Status.TrackedConfigs["secret/podinfo-tls"] = "x"
	for name, c := range map[string]*v1alpha1.Canary{"new spec": newSpec, "changed config": newConfig, "another config": moreConfig} {
		if Checksum(c) == Checksum(base) {
			t.Errorf("%s: checksum unchanged", name)
		}
	}
}

func TestTimeout(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{{"", DefaultTimeout, false}, {"3m", 3 * time.Minute, false}, {"0s", 0, true}, {"-1s", 0, true}, {"10", 0, true}} {
		got, err := Timeout(v1alpha1.CanaryWebhook{Timeout: tt.in})
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Timeout(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
