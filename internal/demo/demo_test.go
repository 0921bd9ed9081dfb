package demo

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestAssetVersionsMatchScript keeps the demo looking for the binaries
// hack/testenv.sh installs.
func TestAssetVersionsMatchScript(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "hack", "testenv.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"KUBE_VERSION": KubeVersion, "ETCD_VERSION": EtcdVersion} {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindStringSubmatch(string(b))
		if m == nil || m[1] != want {
			t.Errorf("hack/testenv.sh %s = %v, the demo expects %s", name, m, want)
		}
	}
}

func TestFindAssets(t *testing.T) {
	full, empty := t.TempDir(), t.TempDir()
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(full, bin), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FLOTILLA_CACHE", t.TempDir())
	t.Setenv("KUBEBUILDER_ASSETS", "")
	if dir, err := findAssets(full); err != nil || dir != full {
		t.Errorf("findAssets(explicit) = %q, %v", dir, err)
	}
	if _, err := findAssets(empty); err == nil || !strings.Contains(err.Error(), "--assets") {
		t.Errorf("an explicit directory without binaries gave %v, want an error naming --assets", err)
	}
	if dir, err := findAssets(""); err != nil || dir != "" {
		t.Errorf("with nothing anywhere findAssets = %q, %v; want \"\", nil (prepare them)", dir, err)
	}
	t.Setenv("KUBEBUILDER_ASSETS", full)
	if dir, _ := findAssets(""); dir != full {
		t.Errorf("findAssets ignores $KUBEBUILDER_ASSETS: %q", dir)
	}
}

func TestCopyFleetWritesEveryCluster(t *testing.T) {
	dir := t.TempDir()
	if err := copyFleet(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range DefaultClusters {
		if _, err := os.Stat(filepath.Join(dir, "clusters", name, "kustomization.yaml")); err != nil {
			t.Errorf("cluster %s: %v", name, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(commitFile)))
	if err != nil || !strings.Contains(string(b), commitOld) {
		t.Errorf("%s lacks %q, which the demo's commit changes: %v", commitFile, commitOld, err)
	}
}

func TestWriteKubeconfigHasAContextPerCluster(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cs := []*cluster{
		{name: "staging", config: &rest.Config{Host: "https://127.0.0.1:1", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}}},
		{name: "prod-us-east", config: &rest.Config{Host: "https://127.0.0.1:2", BearerToken: "t"}},
	}
	if err := writeKubeconfig(path, cs); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "staging" || cfg.Contexts["prod-us-east"].Namespace != Namespace || cfg.Clusters["prod-us-east"].Server != "https://127.0.0.1:2" {
		t.Errorf("kubeconfig = current %q, contexts %v", cfg.CurrentContext, cfg.Contexts)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode = %v, want 0600 (it holds credentials)", fi.Mode().Perm())
	}
}
