package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The control plane hack/testenv.sh installs; TestAssetVersionsMatchScript
// keeps these equal to the script's.
const (
	KubeVersion = "v1.37.2"
	EtcdVersion = "3.4.23"
)

// modulePath identifies a Flotilla checkout by its go.mod.
const modulePath = "module github.com/flotilla-io/flotilla"

// prepareEstimate is what a first preparation costs, as measured on a
// 2-core machine (docs/development.md).
const prepareEstimate = "about 20 minutes on 2 cores"

// cachedAssetsDir is where hack/testenv.sh keeps the binaries.
func cachedAssetsDir() string {
	cache := os.Getenv("FLOTILLA_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "flotilla")
	}
	return filepath.Join(cache, "testenv", "kube-"+KubeVersion+"-etcd-"+EtcdVersion)
}

// hasAssets says whether dir holds kube-apiserver and etcd.
func hasAssets(dir string) bool {
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, bin)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// nodeBinaries are what a real node needs beyond kube-apiserver and etcd.
var nodeBinaries = []string{"kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "coredns"}

// hasNodeAssets says whether dir also holds a real node's binaries.
func hasNodeAssets(dir string) bool {
	for _, bin := range nodeBinaries {
		if fi, err := os.Stat(filepath.Join(dir, bin)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// findAssets returns the first of explicit, $KUBEBUILDER_ASSETS and the
// cache that holds the binaries, or "" when none does. An explicit
// directory without them is an error.
func findAssets(explicit string) (string, error) {
	if explicit != "" {
		if !hasAssets(explicit) {
			return "", fmt.Errorf("--assets %s has no kube-apiserver and etcd", explicit)
		}
		return explicit, nil
	}
	for _, dir := range []string{os.Getenv("KUBEBUILDER_ASSETS"), cachedAssetsDir()} {
		if dir != "" && hasAssets(dir) {
			return dir, nil
		}
	}
	return "", nil
}

// prepareAssets finds the binaries or, in a Flotilla checkout, installs
// and builds what is missing with hack/testenv.sh (the control plane and a
// real node's parts), streaming its progress to out.
func prepareAssets(ctx context.Context, explicit string, out io.Writer) (string, error) {
	dir, err := findAssets(explicit)
	if err != nil || explicit != "" {
		return dir, err
	}
	root, err := checkoutRoot()
	if err != nil {
		if dir != "" {
			return dir, nil
		}
		return "", err
	}
	if dir == "" || !hasNodeAssets(dir) {
		fmt.Fprintf(out, "Preparing the test ground (etcd %s; kube-apiserver, kubelet and the rest of Kubernetes %s and CoreDNS built from source; containerd from Debian): first time only, %s.\n",
			EtcdVersion, KubeVersion, prepareEstimate)
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "testenv.sh"))
	cmd.Stderr = out
	stdout, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/testenv.sh failed (see above): %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(stdout)), "\n")
	dir = lines[len(lines)-1]
	if !hasAssets(dir) {
		return "", fmt.Errorf("hack/testenv.sh printed %q, which has no kube-apiserver and etcd", dir)
	}
	if d := time.Since(start); d > 5*time.Second {
		fmt.Fprintf(out, "Test ground ready in %s.\n", d.Round(time.Second))
	}
	return dir, nil
}

// checkoutRoot finds the Flotilla checkout that holds the working directory.
func checkoutRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kube-apiserver and etcd not found, and not in a Flotilla checkout to build them: " +
				"run `make demo` from the checkout, or pass --assets DIR (a directory with kube-apiserver and etcd)")
		}
		dir = parent
	}
}
