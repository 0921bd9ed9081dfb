package notify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/notify"
)

// echoes are the ways a chat service has been seen to quote a webhook's
// URL back in an error body: the whole path, the path without its leading
// slash, only the token (the last segment), the path JSON-escaped, and the
// token and channel ids as separate fields.
var echoes = map[string]func(path, token string) string{
	"whole-path":                func(path, _ string) string { return "no_service: " + path },
	"path-without-slash":        func(path, _ string) string { return "no such webhook " + strings.TrimPrefix(path, "/") },
	"token-alone":               func(_, token string) string { return "invalid_token: " + token },
	"token-in-json":             func(_, token string) string { return `{"ok":false,"error":"invalid_token","token":"` + token + `"}` },
	"path-with-escaped-slashes": func(path, _ string) string { return `{"path":"` + strings.ReplaceAll(path, "/", `\/`) + `"}` },
	"token-mid-sentence":        func(_, token string) string { return "token " + token + " revoked" },
}

// A chat webhook's URL is its credential, and its last path segment is the
// part that carries the secret: an error body that echoes that token, in
// any form, is masked before it becomes the delivery error.
func TestDeliveryErrorMasksAnEchoedWebhookToken(t *testing.T) {
	hooks := map[string]string{
		"slack":   "/services/T0AB12/B0CD34/MARKERslackhooktoken",
		"discord": "/api/webhooks/112233445566/MARKER-discord_hook-token",
		"msteams": "/webhookb2/0f1e2d3c/IncomingWebhook/MARKER7f3ateamshook/ab12",
		"generic": "/hooks/MARKER-generic-hook-token",
	}
	for typ, path := range hooks {
		token := path[strings.LastIndex(path, "/")+1:]
		if typ == "msteams" {
			token = "MARKER7f3ateamshook"
		}
		for name, echo := range echoes {
			t.Run(typ+"/"+name, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusForbidden)
					_, _ = w.Write([]byte(echo(r.URL.Path, token)))
				}))
				t.Cleanup(srv.Close)
				n, err := notify.NewNotifier(notify.ProviderConfig{Type: typ, Address: srv.URL + path})
				if err != nil {
					t.Fatal(err)
				}
				err = n.Post(context.Background(), failureMessage("x"))
				var de *notify.DeliveryError
				if !errors.As(err, &de) || de.Status != http.StatusForbidden {
					t.Fatalf("error %v, want a DeliveryError with HTTP 403", err)
				}
				assertNoMarker(t, "delivery error", err.Error())
			})
		}
	}
}

// The error still says what the service answered around the token, so an
// operator can tell a revoked hook from a wrong channel.
func TestDeliveryErrorKeepsTheServicesWordsAroundAMaskedToken(t *testing.T) {
	const path = "/services/T0AB12/B0CD34/MARKERslackhooktoken"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("invalid_token: MARKERslackhooktoken"))
	}))
	t.Cleanup(srv.Close)
	n, err := notify.NewNotifier(notify.ProviderConfig{Type: "slack", Address: srv.URL + path})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), failureMessage("x"))
	if err == nil {
		t.Fatal("a 404 was taken as delivered")
	}
	if !strings.Contains(err.Error(), "invalid_token") || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("error %q lost the service's answer", err)
	}
	assertNoMarker(t, "delivery error", err.Error())
}
