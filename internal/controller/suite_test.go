package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var (
	env     *controlplane.Env
	dataDir string
	nsCount atomic.Int32
	// requests counts the controllers' API requests, for the tests of the
	// free steady state.
	requests requestCounter
	// registry holds the controllers' metrics.
	registry = prometheus.NewRegistry()
)

// requestCounter counts writes and dry-runs made through a rest config,
// per namespace, so a test counts only what touches its own namespace.
type requestCounter struct {
	mu              sync.Mutex
	writes, dryRuns map[string]int
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		ns := namespaceOf(req.URL.Path)
		c.mu.Lock()
		if c.writes == nil {
			c.writes, c.dryRuns = map[string]int{}, map[string]int{}
		}
		switch {
		case req.URL.Query().Get("dryRun") != "":
			c.dryRuns[ns]++
		case req.Method != http.MethodGet:
			c.writes[ns]++
		}
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// counts returns the writes and dry-runs made so far in namespace ns.
func (c *requestCounter) counts(ns string) (writes, dryRuns int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes[ns], c.dryRuns[ns]
}

// namespaceOf returns the namespace of an API path, "" when cluster-scoped.
func namespaceOf(path string) string {
	parts := strings.Split(path, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "namespaces" {
			return parts[i+1]
		}
	}
	return ""
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env, startManager))
}

// startManager runs the controllers in-process against env, wired as the
// agent wires them, with every request counted.
func startManager(e *controlplane.Env) (func(), error) {
	dir, err := os.MkdirTemp("", "flotilla-controller-test-")
	if err != nil {
		return nil, err
	}
	dataDir = dir
	cfg := rest.CopyConfig(e.Config)
	cfg.Wrap(requests.wrap)
	opts := agent.DefaultOptions()
	opts.DataDir = dir
	opts.AllowFileURLs = true // the repositories are served from file:// URLs
	opts.Apply.Poll = 200 * time.Millisecond
	_, stop, err := controlplane.RunControllers(cfg, opts, registry)
	if err != nil {
		return nil, err
	}
	return func() { stop(); os.RemoveAll(dir) }, nil
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	controlplane.Require(t, env)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gitrepo-%d-%d", os.Getpid()%1000, nsCount.Add(1))}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if last = cond(); last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, last)
}

func get(t *testing.T, key client.ObjectKey, obj client.Object) error {
	t.Helper()
	return env.Client.Get(context.Background(), key, obj)
}
