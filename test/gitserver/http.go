package gitserver

import (
	"bytes"
	"crypto/subtle"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// httpConfig collects the HTTPOption settings.
type httpConfig struct {
	user, password string
	basicAuth      bool
	tls            bool
}

// HTTPOption configures NewHTTP.
type HTTPOption func(*httpConfig)

// WithBasicAuth requires HTTP basic authentication with user and password.
// Requests with missing or wrong credentials get 401 and WWW-Authenticate.
func WithBasicAuth(user, password string) HTTPOption {
	return func(c *httpConfig) {
		c.user, c.password, c.basicAuth = user, password, true
	}
}

// WithTLS serves HTTPS with the httptest certificate (see CACert).
func WithTLS() HTTPOption {
	return func(c *httpConfig) { c.tls = true }
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
	h := s.count(withAuth(cfg, unchunk(backend(t, root))))
	s.srv = httptest.NewUnstartedServer(h)
	if cfg.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// backend returns a CGI handler running git http-backend for root.
func backend(t testing.TB, root *Root) http.Handler {
	t.Helper()
	execPath := mustGit(t, root.Dir, t.TempDir(), "--exec-path")
	return &cgi.Handler{
		Path:   filepath.Join(execPath, "git-http-backend"),
		Dir:    root.Dir,
		Stderr: io.Discard,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root.Dir,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + t.TempDir(),
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
		},
	}
}

// unchunk buffers chunked request bodies (git uses them for large pushes)
// because net/http/cgi rejects them: CGI needs CONTENT_LENGTH.
func unchunk(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.TransferEncoding = nil
		}
		next.ServeHTTP(w, r)
	})
}

// withAuth wraps next with basic authentication when configured.
func withAuth(cfg httpConfig, next http.Handler) http.Handler {
	if !cfg.basicAuth {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(cfg.user)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(cfg.password)) == 1
		if !ok || !userOK || !passOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
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
