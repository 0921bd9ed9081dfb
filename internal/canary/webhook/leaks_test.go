package webhook

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

const (
	leakUser     = "deploy-t0ken-user"
	leakPassword = "hunter2-pa55word"
)

// echoing answers 403 with body(r): a receiver that quotes the request
// back, as some gateways do.
func echoing(t *testing.T, body func(*http.Request) string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, body(r))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// withUserinfo puts user:password@ into an http:// URL.
func withUserinfo(raw, user, password string) string {
	return strings.Replace(raw, "http://", "http://"+user+":"+password+"@", 1)
}

// assertNoCredential fails t when msg holds the user name, the password or
// the basic-auth header made of them, in clear or in base64.
func assertNoCredential(t *testing.T, msg string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + leakPassword))
	// leakUser+":" is 18 bytes, so its base64 is the exact start of basic.
	userPart := base64.StdEncoding.EncodeToString([]byte(leakUser + ":"))
	for _, s := range []string{leakUser, leakPassword, basic, userPart, base64.StdEncoding.EncodeToString([]byte(leakPassword))} {
		if strings.Contains(msg, s) {
			t.Errorf("%q carries a credential (%q)", msg, s)
		}
	}
}

func TestAnEchoedCredentialIsMaskedInTheError(t *testing.T) {
	for _, tc := range []struct {
		name string
		echo func(*http.Request) string
	}{
		{"the authorization header basic auth sent", func(r *http.Request) string { return "bad credentials: " + r.Header.Get("Authorization") }},
		{"the user name alone", func(r *http.Request) string {
			u, _, _ := r.BasicAuth()
			return "user " + u + " may not approve"
		}},
		{"the password alone", func(r *http.Request) string {
			_, p, _ := r.BasicAuth()
			return "password " + p + " expired"
		}},
		{"the full URL with userinfo", func(r *http.Request) string {
			u, p, _ := r.BasicAuth()
			return fmt.Sprintf("refused http://%s:%s@%s%s", u, p, r.Host, r.URL.Path)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := echoing(t, tc.echo)
			hook := v1alpha1.CanaryWebhook{Name: "gate", URL: withUserinfo(srv.URL, leakUser, leakPassword) + "/gate"}
			err := New().Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseProgressing)
			var werr *Error
			if !errors.As(err, &werr) || werr.StatusCode != http.StatusForbidden {
				t.Fatalf("Call = %v, want a 403 *Error", err)
			}
			if !strings.Contains(werr.Body, "*****") && !strings.Contains(werr.Body, "refused "+srv.URL+"/gate") {
				t.Errorf("body %q, want the echoed credential masked or the URL's userinfo stripped", werr.Body)
			}
			assertNoCredential(t, err.Error())
		})
	}
}

// failingTransport fails every request with an error that quotes the
// request's URL, userinfo and all, as a proxy or a custom transport may.
type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s: %w", r.URL, syscall.ECONNREFUSED)
}

func TestATransportErrorQuotingTheURLLosesItsCredentials(t *testing.T) {
	hook := v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.PreRolloutHook,
		URL: withUserinfo("http://gate.invalid", leakUser, leakPassword) + "/check?token=" + leakPassword}
	err := New(WithTransport(failingTransport{})).Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseProgressing)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Call = %v, want the transport's cause kept", err)
	}
	if !strings.Contains(err.Error(), `webhook "gate" (pre-rollout) at gate.invalid: proxy refused http://gate.invalid/check`) {
		t.Errorf("error %q, want the hook, its host and the transport's words", err)
	}
	assertNoCredential(t, err.Error())
	if strings.Contains(err.Error(), "@") {
		t.Errorf("error %q still carries userinfo", err)
	}
}

func TestEventLogsNoCredential(t *testing.T) {
	rt := &roundTripper{err: errors.New("proxy refused http://" + leakUser + ":" + leakPassword + "@events.invalid/")}
	c := testCanary(v1alpha1.CanaryWebhook{Name: "events", Type: v1alpha1.EventHook, URL: withUserinfo("http://events.invalid", leakUser, leakPassword)})
	// Event only logs; the error it would log is the one post returns.
	err := New(WithTransport(rt)).post(context.Background(), c.Spec.Analysis.Webhooks[0], Payload{Name: "podinfo"})
	if err == nil {
		t.Fatal("post through a failing transport succeeded")
	}
	assertNoCredential(t, err.Error())
}

func TestASecretAcrossTheCutIsMaskedWhole(t *testing.T) {
	for _, offset := range []int{maxBody - 20, maxBody - len(leakPassword)/2, maxBody - 1} {
		t.Run(fmt.Sprintf("secret-at-%d", offset), func(t *testing.T) {
			srv := echoing(t, func(*http.Request) string {
				return strings.Repeat("x", offset) + leakPassword + strings.Repeat("y", 100)
			})
			hook := v1alpha1.CanaryWebhook{Name: "gate", URL: srv.URL + "/?key=" + leakPassword}
			err := New().Call(context.Background(), testCanary(), hook, v1alpha1.CanaryPhaseProgressing)
			var werr *Error
			if !errors.As(err, &werr) {
				t.Fatalf("Call = %v, want an *Error", err)
			}
			for n := 4; n <= len(leakPassword); n++ {
				if strings.Contains(werr.Body, leakPassword[:n]) {
					t.Fatalf("body ends %q: the first %d bytes of the secret show", werr.Body[max(0, len(werr.Body)-30):], n)
				}
			}
			if len(werr.Body) > maxBody {
				t.Errorf("body is %d bytes, want at most %d", len(werr.Body), maxBody)
			}
			if !strings.HasPrefix(werr.Body, strings.Repeat("x", offset)) {
				t.Errorf("body %q lost the text before the secret", werr.Body)
			}
		})
	}
}

func TestCutKeepsRunesWhole(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"shorter than the limit", "denied", 10, "denied"},
		{"exactly the limit", "denied", 6, "denied"},
		{"ascii cut", "denied for good", 6, "denied"},
		{"a two-byte rune across the cut", "abcé", 4, "abc"},
		{"a three-byte rune across the cut", "ab€", 4, "ab"},
		{"a rune ending at the cut", "abé", 4, "abé"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cut(tc.in, tc.n)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestURLSecretsMasksEveryPartOfTheURLThatMayBeSecret(t *testing.T) {
	red := urlSecrets("https://" + leakUser + ":" + leakPassword + "@hooks.test/run?token=q-t0ken-value&empty=")
	basic := base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + leakPassword))
	for _, s := range []string{leakUser, leakPassword, "q-t0ken-value", basic} {
		if got := red.String("said " + s); got != "said *****" {
			t.Errorf("String(%q) = %q, want it masked", "said "+s, got)
		}
	}
	if got := red.String("said hello"); got != "said hello" {
		t.Errorf("String changed text holding no secret: %q", got)
	}
	if got := urlSecrets("http://%zz/").String("said " + leakPassword); got != "said "+leakPassword {
		t.Errorf("an unparsable URL has no secrets to mask, got %q", got)
	}
}
