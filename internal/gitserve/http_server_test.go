package gitserve

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartHTTPWithoutOptions(t *testing.T) {
	root, _, sha := seeded(t)
	srv, err := StartHTTP(root)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %q, want plain HTTP on loopback", srv.URL())
	}
	if got, want := srv.RepoURL("fleet"), srv.URL()+"/fleet.git"; got != want {
		t.Errorf("RepoURL = %q, want %q", got, want)
	}
	if srv.CACert() != nil {
		t.Errorf("CACert = %q without TLS, want nil", srv.CACert())
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("Requests = %d before any request", n)
	}
	out, err := Git(t.TempDir(), t.TempDir(), nil, "ls-remote", srv.RepoURL("fleet"), "refs/heads/main")
	if err != nil || out != sha+"\trefs/heads/main" {
		t.Errorf("ls-remote without credentials = %q, %v; want main at %s", out, err, sha)
	}
	if n := srv.Requests(); n == 0 {
		t.Error("Requests = 0 after an ls-remote")
	}
}

func TestStartHTTPWithTLSServesTheCACert(t *testing.T) {
	root, _, sha := seeded(t)
	srv, err := StartHTTP(root, WithTLS(), WithBasicAuth("fleet", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Errorf("URL = %q, want https", srv.URL())
	}
	block, rest := pem.Decode(srv.CACert())
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("CACert = %q, want one PEM certificate", srv.CACert())
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatalf("CACert does not parse: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, srv.CACert(), 0o600); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(srv.RepoURL("fleet"), "https://", "https://fleet:pw@", 1)
	out, err := Git(t.TempDir(), t.TempDir(), []string{"GIT_SSL_CAINFO=" + ca}, "ls-remote", url, "refs/heads/main")
	if err != nil || out != sha+"\trefs/heads/main" {
		t.Errorf("ls-remote trusting CACert = %q, %v; want main at %s", out, err, sha)
	}
	if _, err := Git(t.TempDir(), t.TempDir(), nil, "ls-remote", url); err == nil {
		t.Error("ls-remote without the CA succeeded: want a certificate error")
	}
}

func TestStartHTTPWithHost(t *testing.T) {
	root, _, _ := seeded(t)
	srv, err := StartHTTP(root, WithHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %q, want the given host", srv.URL())
	}
	resp, err := http.Get(srv.RepoURL("fleet") + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || got != "application/x-git-upload-pack-advertisement" {
		t.Errorf("info/refs: %d %q, want 200 and git's advertisement", resp.StatusCode, got)
	}
}

func TestStartHTTPOnAForeignHostFailsAndCleansUp(t *testing.T) {
	root, _, _ := seeded(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
	srv, err := StartHTTP(root, WithHost("192.0.2.1"))
	if err == nil {
		srv.Close()
		t.Fatal("listening on an address of another machine succeeded")
	}
	if !strings.Contains(err.Error(), "listening on 192.0.2.1") {
		t.Errorf("err = %v, want it to name the host", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("StartHTTP left %d entries in TMPDIR, want its git HOME removed", len(left))
	}
}

func TestStartHTTPWithoutGitFails(t *testing.T) {
	root, _, _ := seeded(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("PATH", t.TempDir())
	if srv, err := StartHTTP(root); err == nil {
		srv.Close()
		t.Fatal("StartHTTP without git on PATH succeeded")
	} else if !strings.Contains(err.Error(), "is git installed?") {
		t.Errorf("err = %v, want a hint that git is missing", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("StartHTTP left %d entries in TMPDIR, want its git HOME removed", len(left))
	}
}

func TestHTTPServerCloseIsFinalAndIdempotent(t *testing.T) {
	root, _, _ := seeded(t)
	srv, err := StartHTTP(root)
	if err != nil {
		t.Fatal(err)
	}
	home := srv.home
	srv.Close()
	srv.Close()
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("the server's git HOME %s is still there: %v", home, err)
	}
	if resp, err := http.Get(srv.URL()); err == nil {
		resp.Body.Close()
		t.Error("a request after Close was answered")
	}
}

func TestHandlerWritesBackendStderr(t *testing.T) {
	root, _, _ := seeded(t)
	var stderr bytes.Buffer
	h, err := Handler(root.Dir, Options{Home: t.TempDir(), Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, target string
		want         int
	}{
		{"a missing repository", "/missing.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		// git http-backend dies on "aliased" paths, before answering.
		{"a path outside the root", "/../etc/info/refs?service=git-upload-pack", http.StatusInternalServerError},
		{"the served repository", "/fleet.git/info/refs?service=git-receive-pack", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if w.Code != tc.want {
				t.Errorf("status = %d, want %d (body %q)", w.Code, tc.want, w.Body.String())
			}
		})
	}
	for _, want := range []string{"Not a git repository: '" + root.Path("missing") + "'", "'/../etc/info/refs': aliased"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr = %q, want git http-backend's %q", stderr.String(), want)
		}
	}
}
