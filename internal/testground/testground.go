// Package testground finds the binaries of the local test ground that
// hack/testenv.sh installs or builds (kube-apiserver, etcd, sops...). It
// imports nothing of Flotilla, so that any package's tests can use it.
package testground

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ModuleRoot returns the repository root.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// AssetsDir finds the test ground's binaries: $KUBEBUILDER_ASSETS, else
// the last line printed by hack/testenv.sh (which builds nothing when they
// are cached). It fails with what to run when neither has them.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, checkAssets(dir)
	}
	out, err := exec.Command(filepath.Join(ModuleRoot(), "hack", "testenv.sh")).Output()
	if err != nil {
		return "", fmt.Errorf("control plane binaries not found: run `make testenv` (hack/testenv.sh failed: %w)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	return dir, checkAssets(dir)
}

func checkAssets(dir string) error {
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return fmt.Errorf("%s not found in %s: run `make testenv`", bin, dir)
		}
	}
	return nil
}
