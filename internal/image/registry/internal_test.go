package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"401 is authentication", &transport.Error{StatusCode: http.StatusUnauthorized}, ErrAuthentication},
		{"403 is authentication", fmt.Errorf("wrapped: %w", &transport.Error{StatusCode: http.StatusForbidden}), ErrAuthentication},
		{"404 is not found", &transport.Error{StatusCode: http.StatusNotFound}, ErrNotFound},
		{"500 is a registry error", &transport.Error{StatusCode: http.StatusInternalServerError}, ErrRegistry},
		{"429 is a registry error", &transport.Error{StatusCode: http.StatusTooManyRequests}, ErrRegistry},
		{"unknown authority is TLS", x509.UnknownAuthorityError{}, ErrTLS},
		{"hostname mismatch is TLS", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}, ErrTLS},
		{"a plain tls: error is TLS", errors.New("remote error: tls: handshake failure"), ErrTLS},
		{"deadline is unreachable", fmt.Errorf("get: %w", context.DeadlineExceeded), ErrUnreachable},
		{"a refused connection is unreachable", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, ErrUnreachable},
		{"a DNS failure is unreachable", &net.DNSError{Err: "no such host", Name: "r.invalid", IsNotFound: true}, ErrUnreachable},
		{"anything else is unreachable", errors.New("EOF"), ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorMessageNamesOperationImageAndRegistry(t *testing.T) {
	e := &Error{Op: "list tags of", Image: "r.example.com/app", Registry: "r.example.com", Kind: ErrNotFound, Detail: "NAME_UNKNOWN"}
	if got, want := e.Error(), "list tags of r.example.com/app at registry r.example.com: the registry has no such repository or tag: NAME_UNKNOWN"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	e.Detail = ""
	if got, want := e.Error(), "list tags of r.example.com/app at registry r.example.com: the registry has no such repository or tag"; got != want {
		t.Errorf("message without detail = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrNotFound) || errors.Is(e, ErrAuthentication) {
		t.Error("errors.Is does not reach the kind alone")
	}
}

func TestFailRedactsAndKeepsTooManyTags(t *testing.T) {
	var a Auths
	if err := a.Add("s", []byte(`{"auths":{"r.example.com":{"username":"u","password":"hunter2-secret"}}}`)); err != nil {
		t.Fatal(err)
	}
	c, err := New("r.example.com/app", WithAuths(&a))
	if err != nil {
		t.Fatal(err)
	}
	err = c.fail("list tags of", "r.example.com/app", fmt.Errorf("GET failed:\n  token hunter2-secret\trefused"))
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("error = %T, want *Error", err)
	}
	if re.Registry != "r.example.com" || re.Kind != ErrUnreachable {
		t.Errorf("error = %+v", re)
	}
	if want := "GET failed: token ***** refused"; re.Detail != want {
		t.Errorf("detail = %q, want %q: redacted, on one line", re.Detail, want)
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Errorf("message %q holds the password", err)
	}
	tm := &TooManyTagsError{Image: "r.example.com/app", Count: 9, Max: 3}
	if got := c.fail("list tags of", "r.example.com/app", tm); got != error(tm) {
		t.Errorf("fail wrapped a TooManyTagsError: %v", got)
	}
}

func TestNormalizeHostAndAliases(t *testing.T) {
	tests := []struct{ key, want string }{
		{"https://index.docker.io/v1/", "index.docker.io"},
		{"http://Reg.Example.com:5000/path", "reg.example.com:5000"},
		{"ghcr.io", "ghcr.io"},
		{"GHCR.IO/org", "ghcr.io"},
	}
	for _, tt := range tests {
		if got := normalizeHost(tt.key); got != tt.want {
			t.Errorf("normalizeHost(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	hub := []string{"index.docker.io", "docker.io", "registry-1.docker.io"}
	for _, reg := range []string{"index.docker.io", "docker.io", "registry-1.docker.io", "Docker.IO"} {
		if diff := cmp.Diff(hub, hostAliases(reg)); diff != "" {
			t.Errorf("aliases of %s (-want +got):\n%s", reg, diff)
		}
	}
	if diff := cmp.Diff([]string{"quay.io"}, hostAliases("Quay.io")); diff != "" {
		t.Errorf("aliases of quay.io (-want +got):\n%s", diff)
	}
}

func TestAuthsAddForms(t *testing.T) {
	var a Auths
	if err := a.Add("Secret apps/one", []byte(`{"auths":{
		"https://Reg.Example.com/v2/":{"auth":"dXNlcjpwYTpzcw=="},
		"tok.example.com":{"username":"u","identitytoken":"idtok"},
		"both.example.com":{"username":"u","password":"pw","identitytoken":"ignored"},
		"both-forms.example.com":{"username":"ignored","password":"ignored","auth":"YTpi"}
	}}`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want Credential
	}{
		{"reg.example.com", Credential{Username: "user", Password: "pa:ss"}},
		{"tok.example.com", Credential{Username: "u", Password: "idtok"}},
		{"both.example.com", Credential{Username: "u", Password: "pw"}},
		{"both-forms.example.com", Credential{Username: "a", Password: "b"}},
	}
	for _, tt := range tests {
		reg, err := name.NewRegistry(tt.host)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := a.For(reg)
		if !ok || got != tt.want {
			t.Errorf("For(%s) = %+v, %v; want %+v", tt.host, got, ok, tt.want)
		}
	}
	secrets := a.Secrets()
	for _, s := range []string{"pa:ss", "idtok", "pw", "b"} {
		if !slices.Contains(secrets, s) {
			t.Errorf("Secrets() = %q misses %q", secrets, s)
		}
	}
}

func TestAuthsAddErrorsNameTheSecretNotTheCredential(t *testing.T) {
	tests := []struct {
		name, data, want, secret string
	}{
		{"not JSON", `{"auths":`, "invalid .dockerconfigjson in Secret apps/s: not JSON", ""},
		{"auths of the wrong type", `{"auths":[1]}`, "invalid .dockerconfigjson in Secret apps/s", ""},
		{"auth not base64", `{"auths":{"https://R.example.com/v1/":{"auth":"%%%secretish"}}}`, "the auth of r.example.com is not base64 of user:password", "secretish"},
		{"auth without a colon", `{"auths":{"r.example.com":{"auth":"bm9jb2xvbg=="}}}`, "the auth of r.example.com is not base64", "nocolon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Auths
			err := a.Add("Secret apps/s", []byte(tt.data))
			if !errors.Is(err, ErrInvalidDockerConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q holds the credential", err)
			}
		})
	}
}

func TestNilAuthsAreAnonymous(t *testing.T) {
	reg, err := name.NewRegistry("r.example.com")
	if err != nil {
		t.Fatal(err)
	}
	var a *Auths
	if _, ok := a.For(reg); ok {
		t.Error("nil Auths returned a credential")
	}
	var empty Auths
	if _, ok := empty.For(reg); ok || len(empty.Secrets()) != 0 {
		t.Error("empty Auths returned a credential")
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\n  b\t\tc \r\n"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}

// newPages returns a walk over /v2/app/tags/list on host with pages of n.
func newPages(t *testing.T, n int, nextQuery string) *tagPages {
	t.Helper()
	base, err := url.Parse("https://r.example.com/v2/app/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	next := *base
	next.RawQuery = nextQuery
	return &tagPages{base: base, nextURL: &next, pageSize: n}
}

func TestTagPagesFollowTheLinkHeader(t *testing.T) {
	tests := []struct {
		name     string
		link     string
		tags     []string
		wantNext string
		wantDone bool
	}{
		{"relative link", `</v2/app/tags/list?n=2&last=b>; rel="next"`, []string{"a", "b"}, "https://r.example.com/v2/app/tags/list?n=2&last=b", false},
		{"absolute link on the same host", `<https://r.example.com/v2/app/tags/list?last=z>; rel="next"`, []string{"y"}, "https://r.example.com/v2/app/tags/list?last=z", false},
		{"link to another host ends the walk", `<https://evil.example.com/v2/app/tags/list?last=b>; rel="next"`, []string{"a", "b"}, "", true},
		{"link to plain http ends the walk", `<http://r.example.com/v2/app/tags/list?last=b>; rel="next"`, []string{"a", "b"}, "", true},
		{"a link that is not rel=next is ignored; a short page ends", `</v2/app/tags/list?last=b>; rel="prev"`, []string{"a"}, "", true},
		{"no link and a full page asks from the last tag", ``, []string{"a", "b"}, "https://r.example.com/v2/app/tags/list?last=b&n=2", false},
		{"no link and a short page ends", ``, []string{"a"}, "", true},
		{"no link and an empty page ends", ``, nil, "", true},
		{"a malformed link is ignored", `/v2/app/tags/list?last=b; rel="next"`, []string{"a"}, "", true},
		{"the next link after a prev link", `</v2/app/tags/list?n=2>; rel="prev", </v2/app/tags/list?n=2&last=d>; rel="next"`, []string{"c", "d"}, "https://r.example.com/v2/app/tags/list?n=2&last=d", false},
		{"the next link before a prev link", `</v2/app/tags/list?n=2&last=d>; rel="next", </v2/app/tags/list?n=2>; rel="prev"`, []string{"c", "d"}, "https://r.example.com/v2/app/tags/list?n=2&last=d", false},
		{"a prev link alone and a full page asks from the last tag", `</v2/app/tags/list?n=2>; rel="prev"`, []string{"c", "d"}, "https://r.example.com/v2/app/tags/list?last=d&n=2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPages(t, 2, "n=2")
			p.advance(tt.link, tt.tags)
			if p.done != tt.wantDone || p.more() == tt.wantDone {
				t.Fatalf("done = %v, want %v", p.done, tt.wantDone)
			}
			if tt.wantNext != "" && p.nextURL.String() != tt.wantNext {
				t.Errorf("next = %s, want %s", p.nextURL, tt.wantNext)
			}
		})
	}
}

func TestTagPagesDropWhatIsNotAfterLast(t *testing.T) {
	p := newPages(t, 3, "n=3&last=c")
	got := p.afterLast([]string{"a", "b", "c", "d", "e"})
	if diff := cmp.Diff([]string{"d", "e"}, got); diff != "" {
		t.Errorf("after last=c (-want +got):\n%s", diff)
	}
	first := newPages(t, 3, "n=3")
	if diff := cmp.Diff([]string{"b", "a"}, first.afterLast([]string{"b", "a"})); diff != "" {
		t.Errorf("the first page is kept as is (-want +got):\n%s", diff)
	}
}

// FuzzNextLink checks that the Link parser never panics and that what it
// returns is one link's target, without its angle brackets.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{
		`</v2/a/tags/list?last=b>; rel="next"`,
		`</p>; rel="prev", </n>; rel="next"`,
		`<https://h/x>; rel="next"; title="<x>"`,
		`<>; rel="next"`, `>; rel="next"<`, `<<>>`, ``, `rel="next"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		target, ok := nextLink(header)
		if !ok {
			if target != "" {
				t.Fatalf("no link but target %q", target)
			}
			return
		}
		if strings.ContainsAny(target, "<>") || !strings.Contains(header, "<"+target+">") {
			t.Fatalf("nextLink(%q) = %q, not one link's target", header, target)
		}
	})
}
