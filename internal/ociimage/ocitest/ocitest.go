// Package ocitest runs an in-process OCI registry for tests: TLS from
// httptest's certificate, HTTP basic auth, blobs in memory. It is for tests
// of code that pushes or pulls images; it is not a registry to deploy.
package ocitest

import (
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is a running test registry.
type Registry struct {
	// Host is the registry's host:port, to prefix references with.
	Host string
	// CAFile holds the PEM certificate its TLS is signed with.
	CAFile string
	// Close stops the registry before the test ends (a registry that goes
	// down); it is safe to call twice.
	Close func()
}

// NewRegistry starts a registry that wants username and password, and
// stops it when the test ends.
func NewRegistry(t testing.TB, username, password string) Registry {
	t.Helper()
	reg, err := StartRegistry(t.TempDir(), username, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	return reg
}

// StartRegistry starts a registry that wants username and password, its
// CA certificate written into dir; the caller stops it with Close. It is
// NewRegistry for programs (the benchmarks), which have no testing.TB.
func StartRegistry(dir, username, password string) (Registry, error) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewUnstartedServer(BasicAuth(reg, username, password))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed TLS handshakes are what some tests want
	srv.StartTLS()
	caFile := filepath.Join(dir, "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		srv.Close()
		return Registry{}, fmt.Errorf("test registry: writing its CA: %w", err)
	}
	return Registry{Host: strings.TrimPrefix(srv.URL, "https://"), CAFile: caFile, Close: srv.Close}, nil
}

// BasicAuth answers 401 with a Basic challenge unless the request carries
// username and password, as Debian's docker-registry with htpasswd does.
func BasicAuth(next http.Handler, username, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != username || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
