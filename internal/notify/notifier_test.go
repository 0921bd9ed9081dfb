package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/notify"
)

const (
	testSHA      = "0123456789abcdef0123456789abcdef01234567"
	testToken    = "tok-3f9a-MARKER-token"
	testHookPath = "/services/T000/B000/MARKER-hook-secret"
)

func failureMessage(msg string) notify.Message {
	return notify.Message{
		Kind: notify.KindFailure,
		Event: notify.Event{
			Object:   notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web"},
			Severity: notify.SeverityError, Reason: "BuildFailed", Message: msg,
			Revision: "main@sha1:" + testSHA, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		},
		Objects:  []string{"Stack/apps/web"},
		Metadata: map[string]string{"cluster": "prod-eu"},
	}
}

func resolvedMessage() notify.Message {
	m := failureMessage("applied revision main@sha1:" + testSHA)
	m.Kind, m.Event.Severity, m.Event.Reason = notify.KindResolved, notify.SeverityInfo, "Succeeded"
	return m
}

// Every provider type sends the documented request for a failure and for
// its resolution; the stand-ins reject anything else.
func TestNotifiersSendTheDocumentedPayloads(t *testing.T) {
	cases := []struct {
		typ      string
		validate validator
		path     string
		// severity reads the failure/resolved marker from a payload.
		severity func(received) string
		want     [2]string
	}{
		{"slack", slackFormat, testHookPath, func(r received) string {
			return r.Payload["attachments"].([]any)[0].(map[string]any)["color"].(string)
		}, [2]string{"#a30200", "#2eb886"}},
		{"msteams", teamsFormat, "/webhookb2/MARKER", func(r received) string {
			body := r.Payload["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)["body"].([]any)
			return body[0].(map[string]any)["color"].(string)
		}, [2]string{"attention", "good"}},
		{"discord", discordFormat, "/api/webhooks/1/MARKER", func(r received) string {
			return fmt.Sprint(int(r.Payload["embeds"].([]any)[0].(map[string]any)["color"].(float64)))
		}, [2]string{"10682880", "3061894"}},
		{"generic", genericFormat, "/events", func(r received) string { return r.Payload["severity"].(string) }, [2]string{"error", "info"}},
		{"generic-hmac", genericHMACFormat(testToken), "/events", func(r received) string { return r.Payload["kind"].(string) }, [2]string{"failure", "resolved"}},
		{"github", githubStatusFormat(testToken), "/org/repo", func(r received) string { return r.Payload["state"].(string) }, [2]string{"failure", "success"}},
		{"gitlab", gitlabStatusFormat(testToken), "/group/repo", func(r received) string { return r.Payload["state"].(string) }, [2]string{"failed", "success"}},
		{"gitea", giteaStatusFormat(testToken), "/org/repo.git", func(r received) string { return r.Payload["state"].(string) }, [2]string{"failure", "success"}},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			s := newStandIn(t, tc.validate)
			n, err := notify.NewNotifier(notify.ProviderConfig{Type: tc.typ, Address: s.URL(tc.path), Token: testToken, Username: "flotilla", Channel: "#ops"})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []notify.Message{failureMessage("kustomize build failed: accumulating resources"), resolvedMessage()} {
				if err := n.Post(context.Background(), m); err != nil {
					t.Fatalf("post: %v", err)
				}
			}
			got := s.requests()
			if len(got) != 2 {
				t.Fatalf("stand-in got %d requests, want 2", len(got))
			}
			for i, r := range got {
				if sev := tc.severity(r); sev != tc.want[i] {
					t.Errorf("request %d: severity marker %q, want %q", i, sev, tc.want[i])
				}
			}
		})
	}
}

// A commit status needs a commit: an event without one sends nothing.
func TestCommitStatusWithoutCommitSendsNothing(t *testing.T) {
	s := newStandIn(t, githubStatusFormat(testToken))
	n, err := notify.NewNotifier(notify.ProviderConfig{Type: "github", Address: s.URL("/org/repo"), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	m := failureMessage("fetch failed")
	m.Event.Revision = ""
	if err := n.Post(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := len(s.requests()); got != 0 {
		t.Errorf("stand-in got %d requests, want none", got)
	}
}

// The token and the webhook URL never appear in what is sent, nor in the
// error of a failed delivery, even when the event's message holds them.
func TestNotifierRedactsTokenAndAddress(t *testing.T) {
	for _, typ := range []string{"slack", "generic-hmac", "discord"} {
		t.Run(typ, func(t *testing.T) {
			v := map[string]validator{"slack": slackFormat, "generic-hmac": genericHMACFormat(testToken), "discord": discordFormat}[typ]
			s := newStandIn(t, v)
			addr := s.URL(testHookPath)
			n, err := notify.NewNotifier(notify.ProviderConfig{Type: typ, Address: addr, Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Post(context.Background(), failureMessage("oops "+testToken+" at "+addr)); err != nil {
				t.Fatal(err)
			}
			s.status.Store(http.StatusInternalServerError)
			err = n.Post(context.Background(), failureMessage("again"))
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Status != http.StatusInternalServerError {
				t.Fatalf("error %v, want a DeliveryError with HTTP 500", err)
			}
			for _, r := range s.requests() {
				assertNoMarker(t, "delivered body", string(r.Body))
			}
			assertNoMarker(t, "delivery error", err.Error())
		})
	}
}

// assertNoMarker fails when s holds the test token or the hook path.
func assertNoMarker(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "MARKER") {
		t.Errorf("%s holds a secret marker: %s", what, s)
	}
}

// A refused connection is an error that names no URL.
func TestDeliveryErrorNamesNoURL(t *testing.T) {
	s := newStandIn(t, slackFormat)
	addr := s.URL(testHookPath)
	s.srv.Close()
	n, err := notify.NewNotifier(notify.ProviderConfig{Type: "slack", Address: addr, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), failureMessage("x"))
	if err == nil {
		t.Fatal("post to a closed server succeeded")
	}
	assertNoMarker(t, "error", err.Error())
	if strings.Contains(err.Error(), "/services/") {
		t.Errorf("error names the URL path: %v", err)
	}
}

// Redirects are not followed: the token would go to another host.
func TestNotifierDoesNotFollowRedirects(t *testing.T) {
	other := newStandIn(t, func(*http.Request, []byte) error { return errors.New("the redirect was followed") })
	redirect := newStandIn(t, genericFormat)
	redirect.srv.Config.Handler = http.RedirectHandler(other.URL("/"), http.StatusTemporaryRedirect)
	n, err := notify.NewNotifier(notify.ProviderConfig{Type: "generic", Address: redirect.URL("/")})
	if err != nil {
		t.Fatal(err)
	}
	var de *notify.DeliveryError
	if err := n.Post(context.Background(), failureMessage("x")); !errors.As(err, &de) || de.Status != http.StatusTemporaryRedirect {
		t.Errorf("error %v, want a DeliveryError with HTTP 307", err)
	}
	if len(other.requests()) != 0 {
		t.Error("the other host got the request")
	}
}

func TestCommitOf(t *testing.T) {
	cases := map[string]string{
		"main@sha1:" + testSHA:   testSHA,
		"sha1:" + testSHA:        testSHA,
		"v1.2.3@sha1:" + testSHA: testSHA,
		"main@sha1:abc":          "",
		"":                       "",
		"sha256:" + testSHA:      "",
	}
	for in, want := range cases {
		if got := notify.CommitOf(in); got != want {
			t.Errorf("CommitOf(%q) = %q, want %q", in, got, want)
		}
	}
}
