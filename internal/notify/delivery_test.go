package notify_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/notify"
)

// answer is a service that answers every request with status and body,
// recording the last request's headers.
func answer(t *testing.T, status int, body string, tls bool) (*httptest.Server, *http.Header) {
	t.Helper()
	var last http.Header
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = r.Header.Clone()
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &last
}

func postOnce(t *testing.T, cfg notify.ProviderConfig) error {
	t.Helper()
	n, err := notify.NewNotifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n.Post(context.Background(), failureMessage("build failed"))
}

func TestNewNotifierRefusesBadConfig(t *testing.T) {
	_, err := notify.NewNotifier(notify.ProviderConfig{Type: "pagerduty"})
	if !errors.Is(err, notify.ErrUnknownType) || !strings.Contains(err.Error(), `"pagerduty"`) {
		t.Errorf("unknown type: %v, want ErrUnknownType naming it", err)
	}
	_, err = notify.NewNotifier(notify.ProviderConfig{Type: "slack", CA: []byte("not a certificate")})
	if err == nil || err.Error() != "certSecretRef: ca.crt holds no PEM certificate" {
		t.Errorf("a CA without PEM: %v, want the certSecretRef error", err)
	}
}

func TestNotifierSendsJSONWithItsUserAgent(t *testing.T) {
	srv, last := answer(t, http.StatusNoContent, "", false)
	if err := postOnce(t, notify.ProviderConfig{Type: "generic", Address: srv.URL + "/events"}); err != nil {
		t.Fatalf("a 204 answer: %v, want success", err)
	}
	if got := last.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := last.Get("User-Agent"); got != "flotilla-notify" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestNotifierTrustsTheProvidersCA(t *testing.T) {
	srv, _ := answer(t, http.StatusOK, "ok", true)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := postOnce(t, notify.ProviderConfig{Type: "generic", Address: srv.URL, CA: ca}); err != nil {
		t.Errorf("with the server's CA: %v", err)
	}
	err := postOnce(t, notify.ProviderConfig{Type: "generic", Address: srv.URL + testHookPath})
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Status != 0 || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error before any HTTP status", err)
	}
	assertNoMarker(t, "certificate error", err.Error())
}

func TestNotifierErrorsNameStatusNotSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"a refusal echoing the token", "invalid token " + testToken, http.StatusForbidden, "generic-hmac provider answered HTTP 403: invalid token *****"},
		{"a server error echoing the address's path", "Cannot POST " + testHookPath, http.StatusNotFound, "generic-hmac provider answered HTTP 404: Cannot POST *****"},
		{"a redirect", "", http.StatusFound, "generic-hmac provider answered HTTP 302: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := answer(t, tc.status, tc.body, false)
			err := postOnce(t, notify.ProviderConfig{Type: "generic-hmac", Address: srv.URL + testHookPath, Token: testToken})
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Status != tc.status || de.Type != "generic-hmac" {
				t.Fatalf("err = %#v, want a DeliveryError with HTTP %d", err, tc.status)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to start with %q", err, tc.want)
			}
			assertNoMarker(t, "delivery error", err.Error())
		})
	}
}

// A forge's address is a repository, no secret: its path stays readable
// in errors, the token does not.
func TestForgeErrorsKeepTheRepository(t *testing.T) {
	srv, _ := answer(t, http.StatusNotFound, "no repository /repos/org/repo for "+testToken, false)
	err := postOnce(t, notify.ProviderConfig{Type: "gitea", Address: srv.URL + "/org/repo", Token: testToken})
	if err == nil || !strings.HasSuffix(err.Error(), "no repository /repos/org/repo for *****") {
		t.Errorf("err = %v, want the repository named and the token masked", err)
	}
}

func TestNotifierKeepsTheStartOfALongAnswer(t *testing.T) {
	srv, _ := answer(t, http.StatusInternalServerError, strings.Repeat("e", 300)+"TAIL", false)
	err := postOnce(t, notify.ProviderConfig{Type: "generic", Address: srv.URL})
	var de *notify.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a DeliveryError", err)
	}
	if got := de.Err.Error(); got != strings.Repeat("e", 256) {
		t.Errorf("the answer kept is %d bytes (%.10q…), want its first 256", len(got), got)
	}
}

func TestNotifierRefusesAnAddressThatIsNoURL(t *testing.T) {
	err := postOnce(t, notify.ProviderConfig{Type: "slack", Address: "http://[::1" + testHookPath})
	var de *notify.DeliveryError
	if !errors.As(err, &de) || err.Error() != "posting to the slack provider: the address is not a valid URL" {
		t.Errorf("err = %v, want a DeliveryError that does not repeat the address", err)
	}
}

func TestNotifierHonoursCancellation(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	n, err := notify.NewNotifier(notify.ProviderConfig{Type: "generic", Address: srv.URL + testHookPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = n.Post(ctx, failureMessage("x"))
	var de *notify.DeliveryError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("a cancelled post: %v, want a DeliveryError saying so", err)
	}
	assertNoMarker(t, "cancellation error", err.Error())
}

func TestDeliveryErrorText(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		err  *notify.DeliveryError
		want string
	}{
		{&notify.DeliveryError{Type: "slack", Err: cause}, "posting to the slack provider: connection refused"},
		{&notify.DeliveryError{Type: "github", Status: 422, Err: cause}, "github provider answered HTTP 422: connection refused"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error = %q, want %q", got, tc.want)
		}
		if !errors.Is(tc.err, cause) {
			t.Errorf("%v does not unwrap to its cause", tc.err)
		}
	}
}
