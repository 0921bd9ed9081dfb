package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// roundTripper answers every request itself and records the URLs.
type roundTripper struct {
	urls   []string
	status int
	err    error
}

func (rt *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.urls = append(rt.urls, r.URL.String())
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if rt.err != nil {
		return nil, rt.err
	}
	return &http.Response{StatusCode: rt.status, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
}

func TestWithTransportSendsTheCallsThroughIt(t *testing.T) {
	rt := &roundTripper{status: http.StatusOK}
	hook := v1alpha1.CanaryWebhook{Name: "gate", URL: "http://gate.invalid/approve"}
	if err := New(WithTransport(rt)).Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseWaiting); err != nil {
		t.Fatal(err)
	}
	if len(rt.urls) != 1 || rt.urls[0] != "http://gate.invalid/approve" {
		t.Errorf("transport saw %v, want the one call", rt.urls)
	}
}

// A transport failure is the *Error's cause: errors.Is finds it, and the
// message names the hook and host, never the URL's query.
func TestTransportFailureIsTheCause(t *testing.T) {
	refused := errors.New("proxy refused the connection")
	rt := &roundTripper{err: refused}
	hook := v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmPromotionHook, URL: "http://gate.invalid/approve?key=k3y-s3cr3t"}
	err := New(WithTransport(rt)).Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseWaitingPromotion)
	if !errors.Is(err, refused) {
		t.Fatalf("Call = %v, want the transport's error as its cause", err)
	}
	if want := `webhook "gate" (confirm-promotion) at gate.invalid: proxy refused the connection`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestTheAnswersThatApprove(t *testing.T) {
	for _, tc := range []struct {
		status int
		ok     bool
	}{
		{http.StatusOK, true},
		{http.StatusAccepted, true},
		{http.StatusNoContent, true},
		{299, true},
		{http.StatusMultipleChoices, false},
		{http.StatusNotModified, false},
		{http.StatusBadRequest, false},
		{http.StatusServiceUnavailable, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			err := New(WithTransport(&roundTripper{status: tc.status})).Call(context.Background(), testCanary(),
				v1alpha1.CanaryWebhook{Name: "h", URL: "http://hook.invalid/"}, v1alpha1.CanaryPhaseProgressing)
			if (err == nil) != tc.ok {
				t.Errorf("answer %d: Call = %v, want approved %t", tc.status, err, tc.ok)
			}
			var werr *Error
			if err != nil && (!errors.As(err, &werr) || werr.StatusCode != tc.status || werr.Unwrap() != nil) {
				t.Errorf("answer %d: error %#v, want an *Error with that status and no cause", tc.status, err)
			}
		})
	}
}

func TestAFailedAnswersBodyIsCutAndRedacted(t *testing.T) {
	const key = "k3y-s3cr3t-value"
	long := "denied " + key + " " + strings.Repeat("x", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, long)
	}))
	t.Cleanup(srv.Close)
	hook := v1alpha1.CanaryWebhook{Name: "h", URL: srv.URL + "/?key=" + key + "&other=second-value"}
	err := New().Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseProgressing)
	var werr *Error
	if !errors.As(err, &werr) {
		t.Fatalf("Call = %v, want an *Error", err)
	}
	if strings.Contains(werr.Body, key) || !strings.HasPrefix(werr.Body, "denied *****") {
		t.Errorf("body %q, want the key masked", werr.Body)
	}
	if n := strings.Count(werr.Body, "x"); n >= 256 || n < 200 {
		t.Errorf("body keeps %d of the 1000 x's, want it cut near 256 bytes", n)
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"a status without a body", &Error{Hook: "load", Host: "load.test:8080", StatusCode: 500},
			`webhook "load" (rollout) at load.test:8080 answered 500 Internal Server Error`},
		{"a status and a body", &Error{Hook: "gate", Type: v1alpha1.ConfirmRolloutHook, Host: "gate", StatusCode: 403, Body: "closed"},
			`webhook "gate" (confirm-rollout) at gate answered 403 Forbidden: closed`},
		{"no answer", &Error{Hook: "gate", Type: v1alpha1.PreRolloutHook, Host: "gate", Err: errors.New("connection reset")},
			`webhook "gate" (pre-rollout) at gate: connection reset`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestACancelledCallSendsNothing(t *testing.T) {
	r := newReceiver(t, http.StatusOK, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := New().Call(ctx, testCanary(), v1alpha1.CanaryWebhook{Name: "h", URL: r.srv.URL}, v1alpha1.CanaryPhaseProgressing)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call with a cancelled context = %v, want context.Canceled", err)
	}
	if n := len(r.received()); n != 0 {
		t.Errorf("a cancelled call reached the receiver %d times", n)
	}
}

func TestEventWithoutEventHooksSendsNothing(t *testing.T) {
	rt := &roundTripper{status: http.StatusOK}
	c := testCanary(v1alpha1.CanaryWebhook{Name: "load", URL: "http://load.invalid/"},
		v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmRolloutHook, URL: "http://gate.invalid/"})
	New(WithTransport(rt)).Event(context.Background(), c, "Normal", "advance")
	if len(rt.urls) != 0 {
		t.Errorf("Event called %v, want no call without an event webhook", rt.urls)
	}
}
