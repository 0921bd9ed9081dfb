// Package agent wires Flotilla's controllers into a controller-runtime
// manager: configuration, logging, metrics, health probes and leader
// election. It owns no reconcile logic; that is in package controller.
package agent

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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/drift"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/notify"
	"github.com/flotilla-io/flotilla/internal/source/artifact"
	gitsource "github.com/flotilla-io/flotilla/internal/source/git"
)

// LeaderElectionID names the Lease that agent replicas compete for.
const LeaderElectionID = "flotilla-agent.flotilla.io"

// Options configure the agent.
type Options struct {
	// Kubeconfig is a path; empty means $KUBECONFIG, then in-cluster config.
	Kubeconfig string
	// DataDir holds artifacts and Git caches.
	DataDir string
	// MetricsAddr serves Prometheus metrics; "0" disables.
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz; "0" disables.
	HealthAddr string
	// PprofAddr serves Go's profiles (/debug/pprof/); "" or "0" disables,
	// the default: profiles show the agent's internals to whoever reaches them.
	PprofAddr string
	// LeaderElect makes replicas elect one active leader.
	LeaderElect bool
	// LeaderElectionNamespace holds the Lease out of cluster.
	LeaderElectionNamespace string
	// Concurrency is the number of objects of one kind reconciled at once.
	Concurrency int
	// DriftSafetyInterval bounds how long a Stack with nothing to do goes
	// without a full re-apply.
	DriftSafetyInterval time.Duration
	// KubeAPIQPS and KubeAPIBurst bound the agent's requests to the API
	// server (client-go's defaults, 5 and 10, make a 1000-object apply take
	// minutes).
	KubeAPIQPS   float32
	KubeAPIBurst int
	// Apply are the apply engine's options (field manager, concurrency,
	// health poll interval).
	Apply apply.Options
	// WebhookAddr serves Receivers' webhooks; "0" disables. With
	// WebhookCertFile and WebhookKeyFile it serves TLS.
	WebhookAddr, WebhookCertFile, WebhookKeyFile string
	// Notify are the alert engine's options (queue, retries, backoff).
	Notify notify.Options
	// AllowFileURLs lets GitRepositories use file:// URLs, which read the
	// agent's own file system; off by default.
	AllowFileURLs bool
	// MaxFetchSize caps the bytes one Git fetch may bring (the packfile).
	MaxFetchSize int64
	// Lockdown are the multi-tenant settings of Stacks.
	Lockdown controller.Lockdown
}

// DefaultOptions returns the options of a plain `flotilla agent`.
func DefaultOptions() Options {
	return Options{
		DataDir:                 "/data",
		MetricsAddr:             ":8080",
		HealthAddr:              ":8081",
		LeaderElectionNamespace: "flotilla-system",
		Concurrency:             4,
		DriftSafetyInterval:     controller.DefaultSafetyInterval,
		KubeAPIQPS:              50,
		KubeAPIBurst:            300,
		Apply:                   apply.DefaultOptions(),
		WebhookAddr:             DefaultWebhookAddr,
		Notify:                  notify.DefaultOptions(),
		MaxFetchSize:            gitsource.DefaultMaxFetchSize,
	}
}

// Scheme returns a scheme with the core kinds and Flotilla's
// (v1alpha1.NewScheme).
func Scheme() *runtime.Scheme { return v1alpha1.NewScheme() }

// ClientOptions are the manager's client options: Secrets and ConfigMaps are
// read when needed, never cached, so the agent holds no copy of every Secret
// (or ConfigMap) of the cluster.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}}}}
}

// RestConfig loads the cluster configuration as kubectl would: an explicit
// path, then $KUBECONFIG, then the in-cluster service account.
func RestConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --kubeconfig given, KUBECONFIG unset, and not in a cluster: %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}

// Run starts the agent and blocks until ctx is done or the manager fails.
func Run(ctx context.Context, opts Options, log logr.Logger) error {
	cfg, err := RestConfig(opts.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = opts.KubeAPIQPS, opts.KubeAPIBurst
	mgr, err := NewManager(cfg, opts, log)
	if err != nil {
		return err
	}
	log.Info("starting agent", "dataDir", opts.DataDir, "concurrency", opts.Concurrency, "leaderElect", opts.LeaderElect)
	return mgr.Start(ctx)
}

// NewManager builds a manager with every controller registered.
func NewManager(cfg *rest.Config, opts Options, log logr.Logger) (ctrl.Manager, error) {
	if opts.DataDir == "" {
		return nil, errors.New("--data-dir is required")
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, managerOptions(opts, log))
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := errors.Join(mgr.AddHealthzCheck("ping", healthz.Ping), mgr.AddReadyzCheck("ping", healthz.Ping)); err != nil {
		return nil, err
	}
	if _, err := SetupControllers(mgr, cfg, opts, ctrlmetrics.Registry); err != nil {
		return nil, err
	}
	return mgr, nil
}

// managerOptions are the manager's options for opts: the scheme, the
// client that never caches Secrets or ConfigMaps, the listen addresses and
// leader election.
func managerOptions(opts Options, log logr.Logger) ctrl.Options {
	return ctrl.Options{
		Scheme: Scheme(),
		Logger: log,
		// Secrets and ConfigMaps are read when needed, never cached: the
		// agent holds no copy of every Secret (or ConfigMap) of the cluster.
		Client:                  ClientOptions(),
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:  opts.HealthAddr,
		PprofBindAddress:        opts.PprofAddr,
		LeaderElection:          opts.LeaderElect,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// The process exits right after the manager stops, so handing the
		// Lease over at once is safe and makes a rolling update fail over fast.
		LeaderElectionReleaseOnCancel: true,
	}
}

// Controllers are the reconcilers SetupControllers registered.
type Controllers struct {
	Git         *controller.GitRepositoryReconciler
	Stack       *controller.StackReconciler
	ImageUpdate *controller.ImageUpdateReconciler
	// ImageRepository and ImagePolicy scan registries and choose tags.
	ImageRepository *controller.ImageRepositoryReconciler
	ImagePolicy     *controller.ImagePolicyReconciler
	// Notify are the alert engine and the webhook server.
	Notify *Notifications
	// Canary steps the Canaries' state machines.
	Canary *controller.CanaryReconciler
}

// SetupControllers registers every reconciler and the drift watch with mgr.
// cfg is the config the Stack controller applies with (and impersonates
// from); reg receives Flotilla's metrics. The agent, the controller tests and
// the benchmarks all wire the controllers through it.
func SetupControllers(mgr ctrl.Manager, cfg *rest.Config, opts Options, reg prometheus.Registerer) (*Controllers, error) {
	rec := metrics.NewRecorder(reg)
	store := artifact.NewStore(opts.DataDir)
	notifications, err := setupNotifications(mgr, opts, reg)
	if err != nil {
		return nil, err
	}
	recorder := notifications.Recorder(mgr, mgr.GetEventRecorder("flotilla-agent"))
	git := &controller.GitRepositoryReconciler{
		Client:   mgr.GetClient(),
		Store:    store,
		CacheDir: filepath.Join(opts.DataDir, "git-cache"),
		Events:   recorder,
		Metrics:  rec,

		AllowFileURLs: opts.AllowFileURLs,
		MaxFetchSize:  opts.MaxFetchSize,
	}
	if err := git.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return nil, fmt.Errorf("setting up the GitRepository controller: %w", err)
	}
	stack := &controller.StackReconciler{
		Client:         mgr.GetClient(),
		Config:         cfg,
		Mapper:         mgr.GetRESTMapper(),
		Store:          store,
		Events:         recorder,
		Metrics:        rec,
		ApplyOptions:   opts.Apply,
		SafetyInterval: opts.DriftSafetyInterval,
		Lockdown:       opts.Lockdown,
	}
	stack.Drift = drift.New(cfg, mgr.GetRESTMapper(), stack.CorrectDrift, stack, drift.Options{
		FieldManager: stack.ApplyOptions.FieldManager,
		Log:          mgr.GetLogger().WithName("drift"),
	})
	if err := mgr.Add(stack.Drift); err != nil {
		return nil, err
	}
	if err := stack.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return nil, fmt.Errorf("setting up the Stack controller: %w", err)
	}
	imageUpdate, err := setupImageUpdate(mgr, opts, rec, recorder)
	if err != nil {
		return nil, err
	}
	c := &Controllers{Git: git, Stack: stack, ImageUpdate: imageUpdate, Notify: notifications}
	if err := setupImageControllers(mgr, opts, rec, recorder, c); err != nil {
		return nil, err
	}
	if err := setupCanary(mgr, opts, rec, recorder, c); err != nil {
		return nil, err
	}
	return c, nil
}
