package gitserver

import (
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// httpConfig collects the HTTPOption settings.
type httpConfig struct {
	user, password string
	tls            bool
	host           string
}

// HTTPOption configures NewHTTP.
type HTTPOption func(*httpConfig)

// WithBasicAuth requires HTTP basic authentication with user and password.
// Requests with missing or wrong credentials get 401 and WWW-Authenticate.
func WithBasicAuth(user, password string) HTTPOption {
	return func(c *httpConfig) {
		c.user, c.password = user, password
	}
}

// WithTLS serves HTTPS with the httptest certificate (see CACert).
func WithTLS() HTTPOption {
	return func(c *httpConfig) { c.tls = true }
}

// WithHost listens on host (an IP address of this machine) instead of
// 127.0.0.1: a real node's Pods reach the server at the node's address.
func WithHost(host string) HTTPOption {
	return func(c *httpConfig) { c.host = host }
}

// HTTPServer serves a Root over the Git smart HTTP protocol using the real
// `git http-backend`. Pushes are enabled.
type HTTPServer struct {
	srv       *httptest.Server
	requests  atomic.Int64
	closeOnce sync.Once
}

// NewHTTP starts an HTTP(S) Git server for root on 127.0.0.1. It is closed
// by t.Cleanup.
func NewHTTP(t testing.TB, root *Root, opts ...HTTPOption) *HTTPServer {
	t.Helper()
	var cfg httpConfig
	for _, o := range opts {
		o(&cfg)
	}
	s := &HTTPServer{}
	h := s.count(backend(t, root, cfg))
	s.srv = httptest.NewUnstartedServer(h)
	if cfg.host != "" {
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.host, "0"))
		if err != nil {
			t.Fatalf("git server: listening on %s: %v", cfg.host, err)
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	if cfg.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// backend returns the smart HTTP handler for root.
func backend(t testing.TB, root *Root, cfg httpConfig) http.Handler {
	t.Helper()
	h, err := gitserve.Handler(root.Dir, gitserve.Options{Home: t.TempDir(), Username: cfg.user, Password: cfg.password})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// count wraps next to count requests.
func (s *HTTPServer) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		next.ServeHTTP(w, r)
	})
}

// URL returns the base URL, e.g. http://127.0.0.1:PORT.
func (s *HTTPServer) URL() string { return s.srv.URL }

// RepoURL returns the URL of repository name: URL()+"/"+name+".git".
func (s *HTTPServer) RepoURL(name string) string {
	return s.srv.URL + "/" + name + ".git"
}

// CACert returns the PEM-encoded TLS certificate, or nil without TLS.
func (s *HTTPServer) CACert() []byte {
	cert := s.srv.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// Close stops the server; later connections are refused. It is idempotent.
func (s *HTTPServer) Close() {
	s.closeOnce.Do(s.srv.Close)
}

// Requests returns the number of HTTP requests received so far.
func (s *HTTPServer) Requests() int { return int(s.requests.Load()) }
