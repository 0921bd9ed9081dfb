package gitserver

import (
	"os"
	"path/filepath"
	"testing"
)

// Root is a directory of bare repositories shared by the servers in this
// package. Repository "name" lives in Dir/name.git.
type Root struct{ Dir string }

// NewRoot returns a Root in a fresh t.TempDir().
func NewRoot(t testing.TB) *Root {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Root{Dir: dir}
}

// Path returns the absolute path of the bare repository "<name>.git".
func (r *Root) Path(name string) string {
	return filepath.Join(r.Dir, name+".git")
}

// FileURL returns the file:// URL of the bare repository "<name>.git".
func (r *Root) FileURL(name string) string {
	return "file://" + r.Path(name)
}

// InitBare creates the bare repository "<name>.git" with default branch
// main and returns its path.
func (r *Root) InitBare(t testing.TB, name string) string {
	t.Helper()
	p := r.Path(name)
	mustGit(t, r.Dir, t.TempDir(), "init", "--quiet", "--bare", "--initial-branch=main", p)
	return p
}

// SetHook installs script as the Git hook named hook (post-receive, for
// example) of the bare repository "<name>.git"; pushes run it as Git does.
func (r *Root) SetHook(t testing.TB, name, hook, script string) {
	t.Helper()
	p := filepath.Join(r.Path(name), "hooks", hook)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}
