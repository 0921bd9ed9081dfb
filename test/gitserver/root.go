package gitserver

import (
	"testing"

	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// Root is a directory of bare repositories shared by the servers in this
// package. Repository "name" lives in Dir/name.git.
type Root struct{ Dir string }

// NewRoot returns a Root in a fresh t.TempDir().
func NewRoot(t testing.TB) *Root {
	t.Helper()
	r, err := gitserve.NewRoot(t.TempDir())
	must(t, err)
	return &Root{Dir: r.Dir}
}

// kit is the internal/gitserve Root of the same directory.
func (r *Root) kit() *gitserve.Root { return &gitserve.Root{Dir: r.Dir} }

// Path returns the absolute path of the bare repository "<name>.git".
func (r *Root) Path(name string) string { return r.kit().Path(name) }

// FileURL returns the file:// URL of the bare repository "<name>.git".
func (r *Root) FileURL(name string) string { return r.kit().FileURL(name) }

// InitBare creates the bare repository "<name>.git" with default branch
// main and returns its path.
func (r *Root) InitBare(t testing.TB, name string) string {
	t.Helper()
	p, err := r.kit().InitBare(name)
	must(t, err)
	return p
}

// SetHook installs script as the Git hook named hook (post-receive, for
// example) of the bare repository "<name>.git"; pushes run it as Git does.
func (r *Root) SetHook(t testing.TB, name, hook, script string) {
	t.Helper()
	must(t, r.kit().SetHook(name, hook, script))
}
