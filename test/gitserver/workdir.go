package gitserver

import (
	"testing"

	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// Workdir is a non-bare repository used to make commits and push them to a
// remote named "origin" with the git CLI.
type Workdir struct{ w *gitserve.Workdir }

// NewWorkdir initialises a repository (branch main) in a fresh t.TempDir()
// with remote "origin" set to remote and a committer identity configured.
func NewWorkdir(t testing.TB, remote string) *Workdir {
	t.Helper()
	w, err := gitserve.NewWorkdir(t.TempDir(), remote)
	must(t, err)
	return &Workdir{w: w}
}

// Dir returns the working tree directory.
func (w *Workdir) Dir() string { return w.w.Dir() }

// WriteFile writes content to rel, creating parent directories.
func (w *Workdir) WriteFile(t testing.TB, rel, content string) {
	t.Helper()
	must(t, w.w.WriteFile(rel, content))
}

// Remove deletes rel (file or directory tree) from the working tree.
func (w *Workdir) Remove(t testing.TB, rel string) {
	t.Helper()
	must(t, w.w.Remove(rel))
}

// Symlink creates a symbolic link rel pointing to target.
func (w *Workdir) Symlink(t testing.TB, target, rel string) {
	t.Helper()
	must(t, w.w.Symlink(target, rel))
}

// Commit stages everything and commits (empty commits allowed), returning
// the full SHA of the new HEAD.
func (w *Workdir) Commit(t testing.TB, msg string) string {
	t.Helper()
	sha, err := w.w.Commit(msg)
	must(t, err)
	return sha
}

// Checkout switches to branch, creating it at HEAD when create is true.
func (w *Workdir) Checkout(t testing.TB, branch string, create bool) {
	t.Helper()
	must(t, w.w.Checkout(branch, create))
}

// ResetHard runs git reset --hard rev.
func (w *Workdir) ResetHard(t testing.TB, rev string) {
	t.Helper()
	must(t, w.w.ResetHard(rev))
}

// Tag creates tag name at HEAD, annotated (message = name) if requested.
func (w *Workdir) Tag(t testing.TB, name string, annotated bool) {
	t.Helper()
	must(t, w.w.Tag(name, annotated))
}

// Push runs git push origin with the given refspecs. Refspecs starting
// with '+' force-update and "--tags" pushes all tags; git handles both.
func (w *Workdir) Push(t testing.TB, refspecs ...string) {
	t.Helper()
	must(t, w.w.Push(refspecs...))
}

// DeleteRemoteBranch deletes branch on origin.
func (w *Workdir) DeleteRemoteBranch(t testing.TB, branch string) {
	t.Helper()
	must(t, w.w.DeleteRemoteBranch(branch))
}

// Git runs git with args in the working tree, failing the test with the
// command output on error, and returns trimmed stdout.
func (w *Workdir) Git(t testing.TB, args ...string) string {
	t.Helper()
	out, err := w.w.Git(args...)
	must(t, err)
	return out
}
