package localprometheus

import (
	"context"
	"testing"
)

// New starts a Prometheus for a test: it fails the test when the server
// does not start, stops it in t.Cleanup and logs the server's output when
// the test failed.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Stop()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", s.Logs())
		}
	})
	return s
}
