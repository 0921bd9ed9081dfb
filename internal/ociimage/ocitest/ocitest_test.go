package ocitest

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := BasicAuth(next, "bot", "s3cret")
	for _, tc := range []struct {
		name           string
		user, password string
		setAuth        bool
		want           int
	}{
		{"no credentials", "", "", false, http.StatusUnauthorized},
		{"a wrong password", "bot", "wrong", true, http.StatusUnauthorized},
		{"a wrong user", "other", "s3cret", true, http.StatusUnauthorized},
		{"empty credentials", "", "", true, http.StatusUnauthorized},
		{"the right ones", "bot", "s3cret", true, http.StatusTeapot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/v2/", nil)
			if tc.setAuth {
				req.SetBasicAuth(tc.user, tc.password)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == http.StatusUnauthorized {
				if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="test registry"` {
					t.Errorf("challenge %q, want a Basic one", got)
				}
				if !strings.Contains(rec.Body.String(), `"code":"UNAUTHORIZED"`) {
					t.Errorf("body %q, want the registry's UNAUTHORIZED error", rec.Body)
				}
			}
		})
	}
}

func TestRegistryWritesItsCA(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	b, err := reg.CAPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Errorf("CA file holds %q, want one PEM certificate", b)
	}
	if strings.Contains(reg.Host, "://") || !strings.Contains(reg.Host, ":") {
		t.Errorf("Host = %q, want host:port without a scheme", reg.Host)
	}
	reg.Close()
	reg.Close() // safe twice
}

func TestStartRegistryNeedsAWritableDirectory(t *testing.T) {
	_, err := StartRegistry(filepath.Join(t.TempDir(), "missing"), "bot", "s3cret")
	if err == nil || !strings.HasPrefix(err.Error(), "test registry: writing its CA: ") {
		t.Errorf("StartRegistry into a missing directory = %v, want the CA write named", err)
	}
}

func TestTagImage(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	ctx := context.Background()
	a := PushTags(t, reg, "bot", "s3cret", "team/app", "a", "v1", "v2")
	again, err := TagImage(ctx, reg, "bot", "s3cret", "team/app", "a", "v3")
	if err != nil {
		t.Fatal(err)
	}
	b := PushTags(t, reg, "bot", "s3cret", "team/app", "b", "v4")
	if a != again || a == b {
		t.Errorf("digests: seed a %s and again %s, seed b %s; want a's equal, b's other", a, again, b)
	}
	if _, err := TagImage(ctx, reg, "bot", "wrong", "team/app", "a", "v5"); err == nil || !strings.Contains(err.Error(), "push "+reg.Host+"/team/app:v5") {
		t.Errorf("TagImage with a wrong password = %v, want an error naming the reference", err)
	}
	if _, err := TagImage(ctx, reg, "bot", "s3cret", "team/app", "a", "bad tag"); err == nil || !strings.HasPrefix(err.Error(), `tag "bad tag": `) {
		t.Errorf("TagImage with a bad tag = %v, want the tag named", err)
	}
	if _, err := (Registry{Host: reg.Host, CAFile: filepath.Join(t.TempDir(), "none.pem")}).remoteOptions(ctx, "bot", "s3cret"); !os.IsNotExist(err) {
		t.Errorf("remote options without a CA file = %v, want the file missing", err)
	}
}
