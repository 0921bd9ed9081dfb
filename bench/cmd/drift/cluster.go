package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/gitserve"
	"github.com/flotilla-io/flotilla/internal/stackspec"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// cluster is a fresh control plane with what the benchmark measures it by.
type cluster struct {
	env *controlplane.Env
	// kube is the benchmark's own client: its requests are not counted.
	kube kubernetes.Interface
	// dir holds the Git repositories and the controllers' artifacts.
	dir string
	// requests counts the controllers' API requests, all of them.
	requests *harness.Counter
	// registry holds the controllers' reconcile metrics.
	registry  *prometheus.Registry
	rateLimit string
}

func startCluster(rateLimit string) (*cluster, error) {
	env, err := controlplane.Start()
	if err != nil {
		return nil, err
	}
	c := &cluster{env: env, requests: &harness.Counter{}, registry: prometheus.NewRegistry(), rateLimit: rateLimit}
	if c.dir, err = os.MkdirTemp("", "flotilla-bench-drift-"); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if c.kube, err = kubernetes.NewForConfig(env.Config); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

func (c *cluster) stop() error {
	err := c.env.Stop()
	return errors.Join(err, os.RemoveAll(c.dir))
}

// serverVersion returns kube-apiserver's version.
func (c *cluster) serverVersion() (string, error) {
	v, err := c.kube.Discovery().ServerVersion()
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// agentProcess is the controllers running in this process.
type agentProcess struct {
	stacks *controller.StackReconciler
	cancel context.CancelFunc
	done   chan error
}

// startAgent runs the GitRepository and Stack controllers and the drift
// watcher, wired by internal/agent.SetupControllers as in the agent, with
// every request counted. A safety interval of 0 is the agent's default.
func (c *cluster) startAgent(safety time.Duration) (*agentProcess, error) {
	cfg := rest.CopyConfig(c.env.Config)
	if c.rateLimit == "agent" {
		d := agent.DefaultOptions() // as bin/flotilla agent sets them
		cfg.QPS, cfg.Burst = d.KubeAPIQPS, d.KubeAPIBurst
	}
	cfg.Wrap(c.requests.Wrap)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 v1alpha1.NewScheme(),
		Logger:                 logr.Discard(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Client:                 agent.ClientOptions(),
		// A run starts a second manager for the forced re-apply.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, err
	}
	opts := agent.DefaultOptions()
	opts.DataDir = filepath.Join(c.dir, "agent")
	opts.AllowFileURLs = true // the repositories are served from file:// URLs
	opts.DriftSafetyInterval = safety
	opts.WebhookAddr = "0" // a run starts two managers; neither serves webhooks
	ctrls, err := agent.SetupControllers(mgr, cfg, opts, c.registry)
	if err != nil {
		return nil, err
	}
	stacks := ctrls.Stack
	ctx, cancel := context.WithCancel(context.Background())
	a := &agentProcess{stacks: stacks, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- mgr.Start(ctx) }()
	return a, nil
}

// stop stops the controllers and returns the manager's error, if any.
func (a *agentProcess) stop() error {
	if a == nil || a.cancel == nil {
		return nil
	}
	a.cancel()
	a.cancel = nil
	return <-a.done
}

// probe reads the counters the figures are made of.
func (c *cluster) probe() (harness.Probe, error) {
	cpu, err := harness.ProcessCPU()
	if err != nil {
		return harness.Probe{}, err
	}
	n, s, err := harness.Reconciles(c.registry, v1alpha1.StackKind)
	if err != nil {
		return harness.Probe{}, err
	}
	return harness.Probe{At: time.Now(), Requests: c.requests.Snapshot(), CPU: cpu, Reconciles: n, ReconcileSeconds: s}, nil
}

// waitReconciles waits until at least n Stack reconciles have finished.
func (c *cluster) waitReconciles(ctx context.Context, n float64, timeout time.Duration) error {
	return poll(ctx, timeout, 20*time.Millisecond, fmt.Sprintf("%v Stack reconciles", n), func() error {
		got, _, err := harness.Reconciles(c.registry, v1alpha1.StackKind)
		if err != nil || got >= n {
			return err
		}
		return fmt.Errorf("%v finished", got)
	})
}

// waitQuiet waits until the controllers have had no request in flight for
// d: the status patch and events that follow a reconcile are sent.
func (c *cluster) waitQuiet(ctx context.Context, d time.Duration) error {
	return poll(ctx, time.Minute, 5*time.Millisecond, "the controllers to go quiet", func() error {
		if c.requests.Quiet(d) {
			return nil
		}
		return errors.New("requests in flight")
	})
}

// publish pushes files to a new bare repository and creates a GitRepository
// "name" in ns for it; it returns the revision once the controller fetched it.
func (c *cluster) publish(ctx context.Context, ns, name string, files map[string]string) (string, error) {
	root := &gitserve.Root{Dir: c.dir}
	_, sha, err := root.Seed(name, c.dir, files, "generated by bench/cmd/drift")
	if err != nil {
		return "", err
	}
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.GitRepositorySpec{URL: root.FileURL(name), Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := c.env.Client.Create(ctx, repo); err != nil {
		return "", err
	}
	revision := "main@sha1:" + sha
	return revision, poll(ctx, 2*time.Minute, 50*time.Millisecond, "GitRepository "+ns+"/"+name+" at "+revision, func() error {
		if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
			return err
		}
		if a := repo.Status.Artifact; a == nil || a.Revision != revision {
			return fmt.Errorf("artifact %+v", a)
		}
		return nil
	})
}

func (c *cluster) createNamespace(ctx context.Context, name string) error {
	return c.env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

// createStack creates a pruning Stack that applies path of the
// GitRepository of the same name.
func (c *cluster) createStack(ctx context.Context, ns, name string, interval, timeout time.Duration) (client.ObjectKey, error) {
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: name},
			Path:      name,
			Interval:  metav1.Duration{Duration: interval},
			Timeout:   &metav1.Duration{Duration: timeout},
			Prune:     true,
		},
	}
	return client.ObjectKeyFromObject(s), c.env.Client.Create(ctx, s)
}

// waitStackReady waits until the Stack is Ready at revision with its
// status written.
func (c *cluster) waitStackReady(ctx context.Context, key client.ObjectKey, revision string, timeout time.Duration) error {
	return poll(ctx, timeout, 20*time.Millisecond, "Stack "+key.String()+" Ready at "+revision, func() error {
		var s v1alpha1.Stack
		if err := c.env.Client.Get(ctx, key, &s); err != nil {
			return err
		}
		if !stackspec.ReadyAt(&s, revision) {
			return errors.New(stackspec.Describe(&s))
		}
		return nil
	})
}

// poll calls cond every interval until it returns nil, ctx ends or the
// timeout passes; the error then names what was awaited and the last
// answer.
func poll(ctx context.Context, timeout, interval time.Duration, what string, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		last := cond()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s: %w", timeout, what, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-time.After(interval):
		}
	}
}
