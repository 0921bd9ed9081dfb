package gitserve

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
)

// httpConfig collects the HTTPOption settings.
type httpConfig struct {
	user, password string
	tls            bool
	host           string
}

// HTTPOption configures StartHTTP.
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
	home      string
	requests  atomic.Int64
	closeOnce sync.Once
}

// StartHTTP starts an HTTP(S) Git server for root on a free port of
// 127.0.0.1 (or of WithHost's host). Close stops it.
func StartHTTP(root *Root, opts ...HTTPOption) (*HTTPServer, error) {
	var cfg httpConfig
	for _, o := range opts {
		o(&cfg)
	}
	home, err := os.MkdirTemp("", "flotilla-gitserve-http-")
	if err != nil {
		return nil, err
	}
	h, err := Handler(root.Dir, Options{Home: home, Username: cfg.user, Password: cfg.password})
	if err != nil {
		return nil, joinRemove(err, home)
	}
	s := &HTTPServer{home: home}
	s.srv = httptest.NewUnstartedServer(s.count(h))
	if cfg.host != "" {
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.host, "0"))
		if err != nil {
			return nil, joinRemove(fmt.Errorf("git server: listening on %s: %w", cfg.host, err), home)
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	if cfg.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	return s, nil
}

// joinRemove removes dir and returns err.
func joinRemove(err error, dir string) error {
	_ = os.RemoveAll(dir)
	return err
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
	s.closeOnce.Do(func() {
		s.srv.Close()
		_ = os.RemoveAll(s.home)
	})
}

// Requests returns the number of HTTP requests received so far.
func (s *HTTPServer) Requests() int { return int(s.requests.Load()) }
