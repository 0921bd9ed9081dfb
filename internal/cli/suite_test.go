package cli

import (
	"context"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// env is the control plane the integration tests of the package share; nil
// under -short, where only the unit tests run.
var env *controlplane.Env

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env))
}

// startAgent runs the controllers as the agent wires them, watching only
// namespace, until the test ends.
func startAgent(t *testing.T, namespace string) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     v1alpha1.NewScheme(),
		Logger:     logr.Discard(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Client:     agent.ClientOptions(),
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := agent.DefaultOptions()
	opts.DataDir = t.TempDir()
	opts.AllowFileURLs = true // the repositories are served from file:// URLs
	opts.Apply.Poll = 200 * time.Millisecond
	opts.WebhookAddr = "0" // tests start several managers side by side
	if _, err := agent.SetupControllers(mgr, cfg, opts, prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent stopped: %v", err)
		}
	})
}

// names counts the names uniqueName hands out.
var names atomic.Int64

// uniqueName is prefix with a suffix no other test of this process (nor a
// repeat with -count) gets, for namespaces on the shared control plane.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%10000, names.Add(1))
}
