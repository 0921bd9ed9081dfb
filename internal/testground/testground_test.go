package testground

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// assets makes a directory holding empty executables named bins.
func assets(t *testing.T, bins ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range bins {
		if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// script writes an executable shell script with body and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "testenv.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestModuleRootIsTheRepository(t *testing.T) {
	root := ModuleRoot()
	if !filepath.IsAbs(root) {
		t.Errorf("ModuleRoot = %s, want an absolute path", root)
	}
	for _, f := range []string{"go.mod", "hack/testenv.sh", "internal/testground/testground.go"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s in ModuleRoot %s: %v", f, root, err)
		}
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module github.com/flotilla-io/flotilla\n") {
		t.Errorf("go.mod of ModuleRoot is not Flotilla's: %.60q", mod)
	}
}

func TestAssetsDirFromTheEnvironment(t *testing.T) {
	t.Run("a directory with the control plane", func(t *testing.T) {
		dir := assets(t, "kube-apiserver", "etcd", "kubectl")
		t.Setenv("KUBEBUILDER_ASSETS", dir)
		got, err := AssetsDir()
		if err != nil || got != dir {
			t.Errorf("AssetsDir = %q, %v, want %q", got, err, dir)
		}
	})
	t.Run("a directory without etcd names it", func(t *testing.T) {
		dir := assets(t, "kube-apiserver")
		t.Setenv("KUBEBUILDER_ASSETS", dir)
		_, err := AssetsDir()
		if err == nil || !strings.Contains(err.Error(), "etcd not found in "+dir) || !strings.Contains(err.Error(), "make testenv") {
			t.Errorf("AssetsDir = %v, want etcd and the directory named, with what to run", err)
		}
	})
	t.Run("a directory that does not exist", func(t *testing.T) {
		t.Setenv("KUBEBUILDER_ASSETS", "/nonexistent/assets")
		_, err := AssetsDir()
		if err == nil || !strings.Contains(err.Error(), "kube-apiserver not found in /nonexistent/assets") {
			t.Errorf("AssetsDir = %v", err)
		}
	})
}

func TestAssetsFromScript(t *testing.T) {
	dir := assets(t, "kube-apiserver", "etcd")
	t.Run("the last line printed is the directory", func(t *testing.T) {
		got, err := assetsFromScript(script(t, "echo building...; echo cached; echo '"+dir+"  '"))
		if err != nil || got != dir {
			t.Errorf("assetsFromScript = %q, %v, want %q", got, err, dir)
		}
	})
	t.Run("a directory without the binaries", func(t *testing.T) {
		empty := t.TempDir()
		_, err := assetsFromScript(script(t, "echo "+empty))
		if err == nil || !strings.Contains(err.Error(), "kube-apiserver not found in "+empty) {
			t.Errorf("assetsFromScript = %v", err)
		}
	})
	t.Run("no output", func(t *testing.T) {
		s := script(t, "true")
		_, err := assetsFromScript(s)
		if err == nil || !strings.Contains(err.Error(), s+" printed no directory") {
			t.Errorf("assetsFromScript = %v, want it to say the script printed nothing", err)
		}
	})
	t.Run("a script that cannot run", func(t *testing.T) {
		_, err := assetsFromScript("/nonexistent/testenv.sh")
		if err == nil || !strings.Contains(err.Error(), "/nonexistent/testenv.sh") || !strings.Contains(err.Error(), "make testenv") {
			t.Errorf("assetsFromScript = %v", err)
		}
	})
}

// TestAssetsFromAFailedScriptSaysWhy: the script's stderr (a download or
// build that failed) was dropped, and the error said only "exit status 1".
func TestAssetsFromAFailedScriptSaysWhy(t *testing.T) {
	s := script(t, "echo 'fetching etcd'; echo 'curl: (6) Could not resolve host: dl.k8s.io' >&2; exit 1")
	_, err := assetsFromScript(s)
	if err == nil {
		t.Fatal("a failed script was accepted")
	}
	for _, want := range []string{"exit status 1", s, "Could not resolve host: dl.k8s.io", "make testenv"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestAssetsFromAFailedScriptQuotesTheEndOfALongStderr(t *testing.T) {
	s := script(t, "i=0; while [ $i -lt 500 ]; do echo \"line $i of the build log\" >&2; i=$((i+1)); done; echo 'the real error' >&2; exit 2")
	_, err := assetsFromScript(s)
	if err == nil {
		t.Fatal("a failed script was accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "the real error") || strings.Contains(msg, "line 0 of") {
		t.Errorf("error quotes the wrong part of stderr:\n%s", msg)
	}
	if len(msg) > maxStderr+500 {
		t.Errorf("error is %d bytes, want it bounded", len(msg))
	}
}

func TestStderrOf(t *testing.T) {
	if got := stderrOf(os.ErrNotExist); got != "" {
		t.Errorf("stderrOf(not an exit error) = %q", got)
	}
	_, err := assetsFromScript(script(t, "exit 3"))
	if err == nil || strings.Contains(err.Error(), "its stderr") {
		t.Errorf("a script silent on stderr: %v, want no stderr quoted", err)
	}
}

func TestCheckAssets(t *testing.T) {
	tests := []struct {
		name    string
		bins    []string
		wantErr string
	}{
		{name: "both", bins: []string{"kube-apiserver", "etcd"}},
		{name: "no-apiserver", bins: []string{"etcd"}, wantErr: "kube-apiserver not found"},
		{name: "no-etcd", bins: []string{"kube-apiserver"}, wantErr: "etcd not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkAssets(assets(t, tt.bins...))
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("checkAssets = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkAssets = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
