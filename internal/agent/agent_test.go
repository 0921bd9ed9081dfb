package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
users:
- name: admin
  user: {token: abc}
`

func TestRestConfigPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("explicit path", func(t *testing.T) {
		t.Setenv("KUBECONFIG", "/nonexistent")
		cfg, err := RestConfig(path)
		if err != nil || cfg.Host != "https://127.0.0.1:6443" {
			t.Fatalf("cfg = %+v, err = %v", cfg, err)
		}
	})
	t.Run("KUBECONFIG when no path", func(t *testing.T) {
		t.Setenv("KUBECONFIG", path)
		cfg, err := RestConfig("")
		if err != nil || cfg.Host != "https://127.0.0.1:6443" {
			t.Fatalf("cfg = %+v, err = %v", cfg, err)
		}
	})
	t.Run("nothing outside a cluster", func(t *testing.T) {
		t.Setenv("KUBECONFIG", "")
		t.Setenv("KUBERNETES_SERVICE_HOST", "")
		_, err := RestConfig("")
		if err == nil || !strings.Contains(err.Error(), "not in a cluster") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewManagerNeedsDataDir(t *testing.T) {
	opts := DefaultOptions()
	opts.DataDir = ""
	_, err := NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, opts, logr.Discard())
	if err == nil || !strings.Contains(err.Error(), "--data-dir is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestSchemeKnowsFlotillaAndCoreKinds(t *testing.T) {
	s := Scheme()
	for _, gvk := range []string{"flotilla.io/v1alpha1, Kind=GitRepository", "flotilla.io/v1alpha1, Kind=Stack", "/v1, Kind=Secret"} {
		found := false
		for k := range s.AllKnownTypes() {
			if k.String() == gvk {
				found = true
			}
		}
		if !found {
			t.Errorf("scheme lacks %s", gvk)
		}
	}
}
