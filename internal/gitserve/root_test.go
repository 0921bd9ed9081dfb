package gitserve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeedServesOverHTTP seeds a repository, serves it with basic auth and
// clones it back with the git CLI, as the demo and the benchmarks do.
func TestSeedServesOverHTTP(t *testing.T) {
	root, err := NewRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"apps/app.yaml": "kind: ConfigMap\n", "README": "fleet\n"}
	wd, sha, err := root.Seed("fleet", t.TempDir(), files, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if head, err := Git(root.Path("fleet"), t.TempDir(), nil, "rev-parse", "main"); err != nil || head != sha {
		t.Fatalf("main = %q, %v; want %s", head, err, sha)
	}
	srv, err := StartHTTP(root, WithBasicAuth("fleet", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := strings.Replace(srv.RepoURL("fleet"), "http://", "http://fleet:pw@", 1)
	dst := filepath.Join(t.TempDir(), "clone")
	if _, err := Git(t.TempDir(), t.TempDir(), nil, "clone", "--quiet", url, dst); err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		if got, err := os.ReadFile(filepath.Join(dst, p)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if err := wd.WriteFiles(map[string]string{"README": "changed\n"}); err != nil {
		t.Fatal(err)
	}
	second, err := wd.CommitAndPush("change")
	if err != nil || second == sha {
		t.Fatalf("CommitAndPush = %q, %v; want a new commit", second, err)
	}
	home := srv.home
	srv.Close()
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("the server's git HOME %s is still there after Close: %v", home, err)
	}
}

func TestGitErrorHoldsTheCommandAndItsOutput(t *testing.T) {
	_, err := Git(t.TempDir(), t.TempDir(), nil, "no-such-command")
	if err == nil || !strings.Contains(err.Error(), "git no-such-command") || !strings.Contains(err.Error(), "stderr:") {
		t.Errorf("err = %v, want the command and its stderr", err)
	}
}

func TestNewRootRefusesAMissingDirectory(t *testing.T) {
	if _, err := NewRoot(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("NewRoot of a missing directory: want an error")
	}
}
