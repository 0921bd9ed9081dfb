package gitserver

import (
	"testing"

	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// HTTPServer serves a Root over the Git smart HTTP protocol using the real
// `git http-backend`; see gitserve.HTTPServer.
type HTTPServer = gitserve.HTTPServer

// HTTPOption configures NewHTTP; see gitserve.HTTPOption.
type HTTPOption = gitserve.HTTPOption

// WithBasicAuth requires HTTP basic authentication with user and password.
// Requests with missing or wrong credentials get 401 and WWW-Authenticate.
func WithBasicAuth(user, password string) HTTPOption { return gitserve.WithBasicAuth(user, password) }

// WithTLS serves HTTPS with the httptest certificate (see CACert).
func WithTLS() HTTPOption { return gitserve.WithTLS() }

// WithHost listens on host (an IP address of this machine) instead of
// 127.0.0.1: a real node's Pods reach the server at the node's address.
func WithHost(host string) HTTPOption { return gitserve.WithHost(host) }

// NewHTTP starts an HTTP(S) Git server for root on 127.0.0.1. It is closed
// by t.Cleanup.
func NewHTTP(t testing.TB, root *Root, opts ...HTTPOption) *HTTPServer {
	t.Helper()
	s, err := gitserve.StartHTTP(root.kit(), opts...)
	must(t, err)
	t.Cleanup(s.Close)
	return s
}
