package notify_test

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the test checks SHA-1 is refused
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/notify"
)

func sha1Sig(key, body []byte) string {
	mac := hmac.New(sha1.New, key)
	mac.Write(body)
	return "sha1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestVerifier(t *testing.T) {
	key := []byte("s3cret-key")
	body := []byte(`{"ref":"refs/heads/main","after":"` + testSHA + `"}`)
	good := "sha256=" + notify.Sign(key, body)
	bad := "sha256=" + notify.Sign([]byte("other"), body)
	cases := []struct {
		name      string
		typ       string
		allowSHA1 bool
		headers   map[string]string
		want      error
	}{
		{"github sha256", "github", false, map[string]string{"X-Hub-Signature-256": good}, nil},
		{"github wrong key", "github", false, map[string]string{"X-Hub-Signature-256": bad}, notify.ErrBadSignature},
		{"github no signature", "github", false, nil, notify.ErrNoSignature},
		{"github sha1 refused", "github", false, map[string]string{"X-Hub-Signature": sha1Sig(key, body)}, notify.ErrSHA1Refused},
		{"github sha1 allowed", "github", true, map[string]string{"X-Hub-Signature": sha1Sig(key, body)}, nil},
		{"github sha256 wins over a bad sha1", "github", true, map[string]string{"X-Hub-Signature-256": good, "X-Hub-Signature": "sha1=00"}, nil},
		{"generic-hmac", "generic-hmac", false, map[string]string{"X-Signature": good}, nil},
		{"generic-hmac sha1 refused", "generic-hmac", false, map[string]string{"X-Signature": sha1Sig(key, body)}, notify.ErrSHA1Refused},
		{"generic-hmac unknown algorithm", "generic-hmac", false, map[string]string{"X-Signature": "md5=00"}, notify.ErrBadAlgorithm},
		{"generic-hmac not hex", "generic-hmac", false, map[string]string{"X-Signature": "sha256=zz"}, notify.ErrBadSignature},
		{"generic-hmac no algorithm", "generic-hmac", false, map[string]string{"X-Signature": notify.Sign(key, body)}, notify.ErrBadSignature},
		{"gitlab token", "gitlab", false, map[string]string{"X-Gitlab-Token": string(key)}, nil},
		{"gitlab wrong token", "gitlab", false, map[string]string{"X-Gitlab-Token": "s3cret-kex"}, notify.ErrBadSignature},
		{"gitlab no token", "gitlab", false, nil, notify.ErrNoSignature},
		{"generic verifies nothing", "generic", false, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			v := notify.Verifier{Type: tc.typ, Token: key, AllowSHA1: tc.allowSHA1}
			err := v.VerifyHeaders(h)
			if err == nil {
				err = v.VerifyBody(h, body)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerifier: no input panics, and only the right signature passes.
func FuzzVerifier(f *testing.F) {
	f.Add("github", []byte(`{"ref":"refs/heads/main"}`), "sha256=00", "k")
	f.Add("generic-hmac", []byte(``), "sha1=", "key")
	f.Add("gitlab", []byte(`[]`), "", "tok")
	f.Add("generic-hmac", []byte("\x00\xff"), "sha512=abcd", "")
	f.Fuzz(func(t *testing.T, typ string, body []byte, sig, key string) {
		h := http.Header{}
		h.Set("X-Hub-Signature-256", sig)
		h.Set("X-Signature", sig)
		h.Set("X-Gitlab-Token", sig)
		v := notify.Verifier{Type: typ, Token: []byte(key)}
		err := v.VerifyHeaders(h)
		if err == nil {
			err = v.VerifyBody(h, body)
		}
		right := "sha256=" + notify.Sign([]byte(key), body)
		switch typ {
		case "github", "generic-hmac":
			accepted := err == nil
			valid := strings.EqualFold(sig, right) || strings.EqualFold(sig, "sha512="+sign512(key, body))
			if accepted != valid {
				t.Errorf("%s: signature %q accepted=%v", typ, sig, accepted)
			}
		case "gitlab":
			if (err == nil) != (sig == key && sig != "") {
				t.Errorf("gitlab: token %q accepted=%v", sig, err == nil)
			}
		}
	})
}

func TestParsePayload(t *testing.T) {
	cases := []struct {
		name, body string
		want       notify.Push
		err        bool
	}{
		{"github push", `{"ref":"refs/heads/main","after":"` + testSHA + `"}`, notify.Push{Ref: "refs/heads/main", Commit: testSHA}, false},
		{"gitlab push", `{"ref":"refs/heads/main","checkout_sha":"` + testSHA + `"}`, notify.Push{Ref: "refs/heads/main", Commit: testSHA}, false},
		{"empty body", ``, notify.Push{}, false},
		{"another shape", `[1,2,3]`, notify.Push{}, false},
		{"fields of other types", `{"ref":7,"after":{}}`, notify.Push{}, false},
		{"not JSON", `{"ref":`, notify.Push{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := notify.ParsePayload([]byte(tc.body))
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// FuzzParsePayload: no body panics, and what it returns is bounded.
func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(`{"ref":"refs/heads/main","after":"` + testSHA + `"}`))
	f.Add([]byte(`{"checkout_sha":null}`))
	f.Add([]byte(`"just a string"`))
	f.Add([]byte(`{"ref":"` + string(make([]byte, 600)) + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := notify.ParsePayload(body)
		if err != nil && (p != notify.Push{}) {
			t.Errorf("an error with a result: %+v", p)
		}
		if len(p.Ref) > 260 || len(p.Commit) > 260 {
			t.Errorf("unbounded fields: %d, %d bytes", len(p.Ref), len(p.Commit))
		}
	})
}

func sign512(key string, body []byte) string {
	mac := hmac.New(sha512.New, []byte(key))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
