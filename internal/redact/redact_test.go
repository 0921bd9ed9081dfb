package redact

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"https with user and password", "https://alice:s3cret@git.example.com/org/repo.git", "https://git.example.com/org/repo.git"},
		{"https with token as user", "https://ghp_abcdef@git.example.com/repo", "https://git.example.com/repo"},
		{"query string and fragment dropped", "https://git.example.com/repo?token=abc#frag", "https://git.example.com/repo"},
		{"ssh keeps user name", "ssh://git:pw@git.example.com:2222/repo.git", "ssh://git@git.example.com:2222/repo.git"},
		{"file url unchanged", "file:///srv/git/repo.git", "file:///srv/git/repo.git"},
		{"unparsable keeps no userinfo", "https://user:pa ss@host/%zz", "https://host/%zz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactorMasksSecretsInEveryForm(t *testing.T) {
	const secret = "planted-marker-Zq9"
	r := New(secret, "", "ab")
	msg := "auth failed for " + secret + " b64=" + base64.StdEncoding.EncodeToString([]byte(secret)) +
		" at https://bob:" + secret + "@example.com/x?sig=1 and ab stays"
	got := r.String(msg)
	if strings.Contains(got, secret) || strings.Contains(got, base64.StdEncoding.EncodeToString([]byte(secret))) {
		t.Fatalf("secret survived redaction: %q", got)
	}
	if !strings.Contains(got, "https://example.com/x") {
		t.Errorf("url not kept in redacted form: %q", got)
	}
	if !strings.Contains(got, "ab stays") {
		t.Errorf("short values must not be masked: %q", got)
	}
	if got := r.Error(errors.New("x " + secret)); got != "x "+Mask {
		t.Errorf("Error() = %q", got)
	}
	if got := r.Error(nil); got != "" {
		t.Errorf("Error(nil) = %q", got)
	}
}

func TestValuesMasksOnlyRegisteredValues(t *testing.T) {
	const secret = "planted-marker-Zq9"
	r := New(secret)
	cases := []struct {
		name, in, want string
	}{
		{"credentials of a URL are kept", "https://bob:OTHERPASS@example.com/x?sig=1", "https://bob:OTHERPASS@example.com/x?sig=1"},
		{"a secret inside a URL is masked", "https://user:" + secret + "@example.com/x", "https://user:" + Mask + "@example.com/x"},
		{"a base64 secret is masked", "v: " + base64.StdEncoding.EncodeToString([]byte(secret)), "v: " + Mask},
		{"other text is unchanged", "plain text", "plain text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Values(tc.in); got != tc.want {
				t.Errorf("Values(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	var nilR *Redactor
	if got := nilR.Values("https://u:p@h/r"); got != "https://u:p@h/r" {
		t.Errorf("nil Values = %q, want the text unchanged", got)
	}
}

func TestNilRedactorStillStripsURLs(t *testing.T) {
	var r *Redactor
	if got := r.String("see https://u:p@h/r"); got != "see https://h/r" {
		t.Errorf("got %q", got)
	}
}

func FuzzRedactorNeverLeaks(f *testing.F) {
	f.Add("token-123", "prefix %s suffix")
	f.Add("p@ss:word/", "https://user:%s@host/path")
	f.Fuzz(func(t *testing.T, secret, format string) {
		// A secret made of the mask's own characters can reappear by coincidence.
		if len(secret) < minSecretLen || strings.Contains(secret, "*") || !strings.Contains(format, "%s") {
			return
		}
		msg := strings.ReplaceAll(format, "%s", secret)
		got := New(secret).String(msg)
		if strings.Contains(got, secret) {
			t.Fatalf("secret %q leaked in %q (from %q)", secret, got, msg)
		}
	})
}

func TestRedactorMasksQuotedForms(t *testing.T) {
	const secret = "leak\"marker\n<7f3>ü"
	r := New(secret)
	for _, msg := range []string{
		fmt.Sprintf("Invalid value: %q: must be lowercase", secret),
		`{"value":` + mustJSON(secret) + `}`,
	} {
		got := r.String(msg)
		if strings.Contains(got, "marker") {
			t.Errorf("quoted secret survived: %q -> %q", msg, got)
		}
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
