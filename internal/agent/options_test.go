package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/internal/install"
)

// The agent's defaults must agree with what `flotilla install` runs it
// with, and with the ports its Deployment declares.
func TestDefaultOptionsAgreeWithTheInstalledDeployment(t *testing.T) {
	o := DefaultOptions()
	if o.LeaderElectionNamespace != install.DefaultNamespace {
		t.Errorf("leader election namespace = %q, want install's %q", o.LeaderElectionNamespace, install.DefaultNamespace)
	}
	if o.DataDir == "" || !filepath.IsAbs(o.DataDir) {
		t.Errorf("DataDir = %q, want an absolute default", o.DataDir)
	}
	if o.Concurrency < 1 || o.KubeAPIQPS <= 0 || o.KubeAPIBurst < 1 {
		t.Errorf("Concurrency %d, QPS %v, Burst %d: want positive defaults", o.Concurrency, o.KubeAPIQPS, o.KubeAPIBurst)
	}
	if o.LeaderElect {
		t.Error("leader election is on by default; install turns it on with --leader-elect, a local agent needs no Lease")
	}
	if o.AllowFileURLs {
		t.Error("file:// URLs are allowed by default: a GitRepository could read the agent's file system")
	}
	if o.MaxFetchSize <= 0 || o.DriftSafetyInterval <= 0 {
		t.Errorf("MaxFetchSize %d, DriftSafetyInterval %s: want positive caps", o.MaxFetchSize, o.DriftSafetyInterval)
	}
	objs, err := install.Objects(install.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			for _, a := range containers[0].(map[string]any)["args"].([]any) {
				args = append(args, a.(string))
			}
		}
	}
	for _, want := range []string{"--metrics-addr=" + o.MetricsAddr, "--health-addr=" + o.HealthAddr} {
		if !contains(args, want) {
			t.Errorf("the installed agent runs with %q, not the default %q: the probes would miss it", args, want)
		}
	}
}

func TestClientOptionsNeverCacheSecretsOrConfigMaps(t *testing.T) {
	opts := ClientOptions()
	if opts.Cache == nil {
		t.Fatal("no cache options: every Secret of the cluster would be cached")
	}
	var secret, configMap bool
	for _, o := range opts.Cache.DisableFor {
		switch o.(type) {
		case *corev1.Secret:
			secret = true
		case *corev1.ConfigMap:
			configMap = true
		}
	}
	if !secret || !configMap {
		t.Errorf("cache disabled for Secrets %v, ConfigMaps %v; want both", secret, configMap)
	}
}

func TestRestConfigNamesABrokenKubeconfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content *string
	}{
		{"a missing file", nil},
		{"a file that is not a kubeconfig", ptr("clusters: [not, a, kubeconfig\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kubeconfig")
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := RestConfig(path)
			if err == nil || !strings.Contains(err.Error(), "loading kubeconfig "+path) {
				t.Fatalf("err = %v, want one naming %s", err, path)
			}
		})
	}
}

func TestNewManagerNamesADataDirItCannotCreate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.DataDir = filepath.Join(file, "data")
	_, err := NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, opts, logr.Discard())
	if err == nil || !strings.Contains(err.Error(), "creating data directory") {
		t.Fatalf("err = %v, want a data directory error", err)
	}
}

func ptr(s string) *string { return &s }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The demo's agent Pod serves Receivers on the default webhook port.
func TestDefaultWebhookAddrIsAPortOnEveryInterface(t *testing.T) {
	if !strings.HasPrefix(DefaultWebhookAddr, ":") || DefaultOptions().WebhookAddr != DefaultWebhookAddr {
		t.Errorf("DefaultWebhookAddr = %q, options %q; want :port, the default of the options", DefaultWebhookAddr, DefaultOptions().WebhookAddr)
	}
}
