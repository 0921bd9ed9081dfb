package redact

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestURLEdgeCases(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"http drops a user name without password", "http://deploy-token@git.example.com/repo", "http://git.example.com/repo"},
		{"https without userinfo is unchanged", "https://git.example.com/org/repo.git", "https://git.example.com/org/repo.git"},
		{"ssh without password keeps its user", "ssh://git@git.example.com/repo.git", "ssh://git@git.example.com/repo.git"},
		{"ssh password dropped, port kept", "ssh://deploy:hunter2@10.0.0.1:22/r", "ssh://deploy@10.0.0.1:22/r"},
		{"empty query marker dropped", "https://git.example.com/repo?", "https://git.example.com/repo"},
		{"fragment alone dropped", "https://git.example.com/repo#token=abc", "https://git.example.com/repo"},
		{"oci registry url loses credentials", "oci://robot:pw@registry.example.com/charts/app", "oci://registry.example.com/charts/app"},
		{"scp-style git address is not a URL and has no scheme to strip after", "git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"plain path is unchanged", "/srv/git/repo", "/srv/git/repo"},
		{"empty string", "", ""},
		{"unparsable with password in userinfo", "https://u:p%zz@host/repo", "https://host/repo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStripUserinfoOnlyTouchesSchemeURLs(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"two URLs in one string", "a https://u:p@h1/x b http://t@h2/y", "a https://h1/x b http://h2/y"},
		{"an email address is not userinfo", "mail alice@example.com", "mail alice@example.com"},
		{"userinfo ends at the first slash", "https://host/path@not-userinfo", "https://host/path@not-userinfo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := stripUserinfo(tc.in); got != tc.want {
				t.Errorf("stripUserinfo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStringStripsEveryURLInFreeText(t *testing.T) {
	var r *Redactor
	msg := `clone "https://alice:pw1@git.example.com/a.git?x=1" failed; retry <ssh://git:pw2@h:2222/b> and 'http://tok@h3/c#f'`
	want := `clone "https://git.example.com/a.git" failed; retry <ssh://git@h:2222/b> and 'http://h3/c'`
	if got := r.String(msg); got != want {
		t.Errorf("String =\n %q\nwant\n %q", got, want)
	}
}

func TestNewIgnoresValuesShorterThanTheMinimum(t *testing.T) {
	cases := []struct {
		name, secret, text, want string
	}{
		{"two characters are not masked", "ab", "ab cab", "ab cab"},
		{"three characters are masked", "abc", "abc xabcx", Mask + " x" + Mask + "x"},
		{"empty value masks nothing", "", "text", "text"},
		// Length is counted in bytes: a two-letter word in a multi-byte
		// script is long enough.
		{"two multi-byte letters are masked", "ün", "grün", "gr" + Mask},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := New(tc.secret).Values(tc.text); got != tc.want {
				t.Errorf("New(%q).Values(%q) = %q, want %q", tc.secret, tc.text, got, tc.want)
			}
		})
	}
}

func TestValuesMasksEveryEncodedForm(t *testing.T) {
	const secret = "p@ss word/+?=é"
	r := New(secret)
	forms := map[string]string{
		"clear":              secret,
		"base64":             base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64 unpadded":    base64.RawStdEncoding.EncodeToString([]byte(secret)),
		"query escaped":      url.QueryEscape(secret),
		"path escaped":       url.PathEscape(secret),
		"Go quoted":          strings.Trim(fmt.Sprintf("%q", secret), `"`),
		"JSON quoted":        strings.Trim(mustJSON(secret), `"`),
		"quoted in an error": fmt.Sprintf("Invalid value: %q", secret),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			got := r.Values("before " + form + " after")
			if strings.Contains(got, form) {
				t.Errorf("the %s form %q survived: %q", name, form, got)
			}
			if !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") {
				t.Errorf("text around the value changed: %q", got)
			}
		})
	}
}

func TestLongerSecretIsMaskedWhole(t *testing.T) {
	// "token" is inside "token-extended": masking the short one first would
	// leave "-extended" behind, telling a reader part of the long one.
	r := New("token", "token-extended")
	if got, want := r.Values("a token-extended b token c"), "a "+Mask+" b "+Mask+" c"; got != want {
		t.Errorf("Values = %q, want %q", got, want)
	}
	// Added later, in another call: the order is kept longest first.
	r = New("sec")
	r.Add("secret-longer")
	if got, want := r.Values("secret-longer sec"), Mask+" "+Mask; got != want {
		t.Errorf("after Add: Values = %q, want %q", got, want)
	}
}

func TestAddAccumulates(t *testing.T) {
	r := New()
	if got := r.Values("first second"); got != "first second" {
		t.Errorf("an empty Redactor changed text: %q", got)
	}
	r.Add("first")
	r.Add("second", "x")
	if got, want := r.Values("first second x"), Mask+" "+Mask+" x"; got != want {
		t.Errorf("Values = %q, want %q", got, want)
	}
}

// TestShortValueMaskedInsideWords documents a known limitation: a value is
// masked wherever its bytes appear, also inside unrelated words ("prod"
// makes "produces" read "*****uces"). This is the price of never leaking a
// value that was written next to other letters (a name such as "myprodapp"
// built from "my${ENV}app"); callers register only values that are secret,
// or that can be in the text at all.
func TestShortValueMaskedInsideWords(t *testing.T) {
	r := New("prod")
	cases := []struct {
		name, in, want string
	}{
		{"inside an unrelated word", "the generator produces no objects", "the generator " + Mask + "uces no objects"},
		{"joined to other letters in a name", "deployment myprodapp not found", "deployment my" + Mask + "app not found"},
		{"as a word of its own", "cluster prod", "cluster " + Mask},
		{"different case is not the value", "Production", "Production"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStringMasksSecretsThatAreURLCredentials(t *testing.T) {
	// String strips the userinfo first, then masks the value where it
	// appears elsewhere.
	const token = "ghp_0123456789abcdef"
	r := New(token)
	got := r.String("fetch https://x-access-token:" + token + "@github.com/org/repo failed (token " + token + ")")
	want := "fetch https://github.com/org/repo failed (token " + Mask + ")"
	if got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestErrorRedactsWrappedErrors(t *testing.T) {
	const secret = "wrapped-secret-42"
	inner := fmt.Errorf("dial https://u:%s@h/x: refused", secret)
	err := fmt.Errorf("fetch: %w", errors.Join(inner, errors.New("second "+secret)))
	got := New(secret).Error(err)
	want := "fetch: dial https://h/x: refused\nsecond " + Mask
	if got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
	var nilR *Redactor
	if got := nilR.Error(errors.New("see https://u:p@h/r")); got != "see https://h/r" {
		t.Errorf("nil Redactor Error = %q, want the URL stripped", got)
	}
}

func TestQuotedForms(t *testing.T) {
	cases := []struct {
		name, in, quoted, json string
	}{
		{"plain", "abc", "abc", "abc"},
		{"double quote and backslash", `a"b\c`, `a\"b\\c`, `a\"b\\c`},
		{"newline and tab", "a\nb\tc", `a\nb\tc`, `a\nb\tc`},
		{"html characters: JSON escapes them, Go does not", "<a&b>", "<a&b>", `\u003ca\u0026b\u003e`},
		{"non-ASCII letter kept by both", "é", "é", "é"},
		{"invalid UTF-8", "\xff", `\xff`, `\ufffd`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := quoted(tc.in); got != tc.quoted {
				t.Errorf("quoted(%q) = %q, want %q", tc.in, got, tc.quoted)
			}
			if got := jsonQuoted(tc.in); got != tc.json {
				t.Errorf("jsonQuoted(%q) = %q, want %q", tc.in, got, tc.json)
			}
		})
	}
}
