package notify_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/notify"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var (
	env      *controlplane.Env
	ctrls    *agent.Controllers
	registry = prometheus.NewRegistry()
	nsCount  atomic.Int32
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env, startAgent))
}

// fastRetries make a failing delivery give up in well under a second.
func fastRetries() notify.Options {
	o := notify.DefaultOptions()
	o.Attempts, o.Backoff, o.MaxBackoff = 3, 20*time.Millisecond, 50*time.Millisecond
	return o
}

// startAgent runs the agent's controllers, the alert engine and the
// webhook server (on a free loopback port) against the control plane.
func startAgent(e *controlplane.Env) (func(), error) {
	dir, err := os.MkdirTemp("", "flotilla-notify-test-")
	if err != nil {
		return nil, err
	}
	opts := agent.DefaultOptions()
	opts.DataDir = dir
	opts.AllowFileURLs = true // the repositories are served from file:// URLs
	opts.Apply.Poll = 200 * time.Millisecond
	opts.WebhookAddr = "127.0.0.1:0"
	opts.Notify = fastRetries()
	c, stop, err := controlplane.RunControllers(e.Config, opts, registry)
	if err != nil {
		return nil, err
	}
	ctrls = c
	return func() { stop(); os.RemoveAll(dir) }, nil
}

// webhookURL is the base URL of the agent's webhook server.
func webhookURL(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr, err := ctrls.Notify.Receivers.Addr(ctx)
	if err != nil {
		t.Fatalf("webhook server not listening: %v", err)
	}
	return "http://" + addr.String()
}

func newNamespace(t *testing.T) string {
	t.Helper()
	controlplane.Require(t, env)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("notify-%d-%d", os.Getpid()%1000, nsCount.Add(1))}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// eventually polls cond until it returns nil or 45s pass.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if last = cond(); last == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, last)
}

func secret(ns, name string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
}
