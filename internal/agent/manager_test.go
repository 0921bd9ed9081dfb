package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// managerSettings are the fields of the manager's options a test compares.
type managerSettings struct {
	Metrics, Health, Pprof       string
	LeaderElect, ReleaseOnCancel bool
	LeaseID, LeaseNamespace      string
}

func settingsOf(opts Options) managerSettings {
	m := managerOptions(opts, logr.Discard())
	return managerSettings{
		Metrics: m.Metrics.BindAddress, Health: m.HealthProbeBindAddress, Pprof: m.PprofBindAddress,
		LeaderElect: m.LeaderElection, ReleaseOnCancel: m.LeaderElectionReleaseOnCancel,
		LeaseID: m.LeaderElectionID, LeaseNamespace: m.LeaderElectionNamespace,
	}
}

func TestManagerOptionsFollowTheAgentsOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want managerSettings
	}{
		{
			name: "defaults: metrics and probes on, profiles off, no election",
			edit: func(*Options) {},
			want: managerSettings{Metrics: ":8080", Health: ":8081", LeaseID: LeaderElectionID, LeaseNamespace: "flotilla-system", ReleaseOnCancel: true},
		},
		{
			name: "every listener disabled with 0",
			edit: func(o *Options) { o.MetricsAddr, o.HealthAddr, o.PprofAddr = "0", "0", "0" },
			want: managerSettings{Metrics: "0", Health: "0", Pprof: "0", LeaseID: LeaderElectionID, LeaseNamespace: "flotilla-system", ReleaseOnCancel: true},
		},
		{
			name: "leader election in another namespace, profiles on localhost",
			edit: func(o *Options) {
				o.LeaderElect, o.LeaderElectionNamespace, o.PprofAddr = true, "ops", "127.0.0.1:6060"
			},
			want: managerSettings{Metrics: ":8080", Health: ":8081", Pprof: "127.0.0.1:6060", LeaderElect: true, LeaseID: LeaderElectionID, LeaseNamespace: "ops", ReleaseOnCancel: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			tc.edit(&opts)
			if diff := cmp.Diff(tc.want, settingsOf(opts)); diff != "" {
				t.Errorf("manager options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManagerOptionsNeverCacheSecretsAndKnowFlotillaKinds(t *testing.T) {
	m := managerOptions(DefaultOptions(), logr.Discard())
	if m.Client.Cache == nil {
		t.Fatal("the manager's client caches every kind: every Secret of the cluster would be held in memory")
	}
	var uncached []string
	for _, o := range m.Client.Cache.DisableFor {
		switch o.(type) {
		case *corev1.Secret:
			uncached = append(uncached, "Secret")
		case *corev1.ConfigMap:
			uncached = append(uncached, "ConfigMap")
		}
	}
	if diff := cmp.Diff([]string{"Secret", "ConfigMap"}, uncached); diff != "" {
		t.Errorf("kinds read without the cache (-want +got):\n%s", diff)
	}
	if m.Scheme == nil {
		t.Fatal("the manager has no scheme")
	}
	for _, gvk := range []schema.GroupVersionKind{
		v1alpha1.GroupVersion.WithKind("Stack"),
		v1alpha1.GroupVersion.WithKind("GitRepository"),
		corev1.SchemeGroupVersion.WithKind("Secret"),
	} {
		if !m.Scheme.Recognizes(gvk) {
			t.Errorf("the manager's scheme does not know %s", gvk)
		}
	}
}

// The Lease name is what replicas agree on: changing it between versions
// would let an old and a new replica both lead during a rolling update.
func TestLeaderElectionIDIsStable(t *testing.T) {
	if LeaderElectionID != "flotilla-agent.flotilla.io" {
		t.Errorf("LeaderElectionID = %q: a rolling update would run two leaders", LeaderElectionID)
	}
}

func TestNewManagerCreatesAPrivateDataDirBeforeWiring(t *testing.T) {
	opts := DefaultOptions()
	opts.DataDir = filepath.Join(t.TempDir(), "nested", "data")
	opts.MetricsAddr, opts.HealthAddr, opts.WebhookAddr = "0", "0", "0"
	// Nothing listens on port 1: the manager is made, wiring the first
	// controller asks the API server for its kinds and fails.
	_, err := NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, opts, logr.Discard())
	if err == nil || !strings.Contains(err.Error(), "setting up the Provider controller") {
		t.Fatalf("err = %v, want the first controller's setup to fail without an API server", err)
	}
	info, statErr := os.Stat(opts.DataDir)
	if statErr != nil {
		t.Fatalf("the data directory was not created: %v", statErr)
	}
	if got := info.Mode().Perm(); !info.IsDir() || got != 0o700 {
		t.Errorf("data directory mode = %v, want a directory with 0700: it holds the artifacts and Git caches", got)
	}
}

func TestRunStopsAtItsConfiguration(t *testing.T) {
	good := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(good, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, kubeconfig, dataDir, want string
	}{
		{"a kubeconfig that does not exist", filepath.Join(t.TempDir(), "missing"), t.TempDir(), "loading kubeconfig"},
		{"no data directory", good, "", "--data-dir is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Kubeconfig, opts.DataDir = tc.kubeconfig, tc.dataDir
			err := Run(t.Context(), opts, logr.Discard())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRestConfigInAPodWithoutItsToken(t *testing.T) {
	// The service account variables are set, as in a Pod, but the token
	// file of the Pod is not there: the error still says what was tried.
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")
	cfg, err := RestConfig("")
	if _, statErr := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); statErr == nil {
		// Inside a Pod the token is there: the in-cluster config loads,
		// aimed at the service variables.
		if err != nil || cfg.Host != "https://10.0.0.1:443" {
			t.Fatalf("in a Pod: RestConfig = %v, %v; want the in-cluster config of https://10.0.0.1:443", cfg, err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "no --kubeconfig given, KUBECONFIG unset, and not in a cluster") {
		t.Fatalf("err = %v, want one naming the three places tried", err)
	}
}

func TestRestConfigReadsTheKubeconfigsCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := RestConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken != "abc" {
		t.Errorf("bearer token = %q, want the kubeconfig user's", cfg.BearerToken)
	}
	// QPS and Burst are left to Run, which sets the agent's own.
	if cfg.QPS != 0 || cfg.Burst != 0 {
		t.Errorf("QPS %v, Burst %d: RestConfig must leave them to the caller", cfg.QPS, cfg.Burst)
	}
}

func TestDefaultOptionsOfTheEnginesAreThoseOfTheirPackages(t *testing.T) {
	o := DefaultOptions()
	if o.Apply.FieldManager == "" {
		t.Error("the apply engine has no field manager: server-side apply would refuse every object")
	}
	if o.WebhookCertFile != "" || o.WebhookKeyFile != "" {
		t.Errorf("webhook TLS files %q, %q by default: a plain agent has none", o.WebhookCertFile, o.WebhookKeyFile)
	}
	if o.PprofAddr != "" {
		t.Errorf("PprofAddr = %q by default: profiles would show the agent's internals to whoever reaches them", o.PprofAddr)
	}
	if o.Lockdown.NoCrossNamespaceRefs {
		t.Errorf("lockdown = %+v by default, want it off (a single-tenant agent)", o.Lockdown)
	}
}
