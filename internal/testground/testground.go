// Package testground finds the binaries of the local test ground that
// hack/testenv.sh installs or builds (kube-apiserver, etcd, sops...). It
// imports nothing of Flotilla, so that any package's tests can use it.
package testground

import (
	"errors"
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
// are cached). It fails with what to run when neither has them, and with
// what the script wrote to stderr when it failed.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, checkAssets(dir)
	}
	return assetsFromScript(filepath.Join(ModuleRoot(), "hack", "testenv.sh"))
}

// maxStderr bounds how much of a failed script's stderr an error quotes.
const maxStderr = 2048

// assetsFromScript runs script and checks the directory its last line of
// output names.
func assetsFromScript(script string) (string, error) {
	out, err := exec.Command(script).Output()
	if err != nil {
		return "", fmt.Errorf("control plane binaries not found: run `make testenv` (%s failed: %w%s)", script, err, stderrOf(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return "", fmt.Errorf("control plane binaries not found: %s printed no directory: run `make testenv`", script)
	}
	return dir, checkAssets(dir)
}

// stderrOf is the end of what a failed command wrote to stderr, as ": ..."
// for an error message, or "" when it wrote nothing.
func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return ""
	}
	stderr := strings.TrimSpace(string(exitErr.Stderr))
	if stderr == "" {
		return ""
	}
	if len(stderr) > maxStderr {
		stderr = "..." + stderr[len(stderr)-maxStderr:]
	}
	return "; its stderr:\n" + stderr
}

func checkAssets(dir string) error {
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return fmt.Errorf("%s not found in %s: run `make testenv`", bin, dir)
		}
	}
	return nil
}
