package gitserver

import (
	"os"
	"path/filepath"
	"testing"
)

// Workdir is a non-bare repository used to make commits and push them to a
// remote named "origin" with the git CLI.
type Workdir struct {
	dir  string
	home string
}

// NewWorkdir initialises a repository (branch main) in a fresh t.TempDir()
// with remote "origin" set to remote and a committer identity configured.
func NewWorkdir(t testing.TB, remote string) *Workdir {
	t.Helper()
	w := &Workdir{dir: t.TempDir(), home: t.TempDir()}
	w.Git(t, "init", "--quiet", "--initial-branch=main")
	w.Git(t, "remote", "add", "origin", remote)
	for _, kv := range [][2]string{
		{"user.name", "gitserver test"},
		{"user.email", "gitserver@example.invalid"},
		{"commit.gpgsign", "false"},
		{"tag.gpgsign", "false"},
		{"core.autocrlf", "false"},
		{"protocol.file.allow", "always"},
	} {
		w.Git(t, "config", kv[0], kv[1])
	}
	return w
}

// Dir returns the working tree directory.
func (w *Workdir) Dir() string { return w.dir }

// path returns the absolute path of rel inside the working tree, creating
// its parent directories.
func (w *Workdir) path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// WriteFile writes content to rel, creating parent directories.
func (w *Workdir) WriteFile(t testing.TB, rel, content string) {
	t.Helper()
	if err := os.WriteFile(w.path(t, rel), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Remove deletes rel (file or directory tree) from the working tree.
func (w *Workdir) Remove(t testing.TB, rel string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(w.dir, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

// Symlink creates a symbolic link rel pointing to target.
func (w *Workdir) Symlink(t testing.TB, target, rel string) {
	t.Helper()
	if err := os.Symlink(target, w.path(t, rel)); err != nil {
		t.Fatal(err)
	}
}

// Commit stages everything and commits (empty commits allowed), returning
// the full SHA of the new HEAD.
func (w *Workdir) Commit(t testing.TB, msg string) string {
	t.Helper()
	w.Git(t, "add", "-A")
	w.Git(t, "commit", "--quiet", "--allow-empty", "-m", msg)
	return w.Git(t, "rev-parse", "HEAD")
}

// Checkout switches to branch, creating it at HEAD when create is true.
func (w *Workdir) Checkout(t testing.TB, branch string, create bool) {
	t.Helper()
	if create {
		w.Git(t, "checkout", "--quiet", "-b", branch)
		return
	}
	w.Git(t, "checkout", "--quiet", branch)
}

// ResetHard runs git reset --hard rev.
func (w *Workdir) ResetHard(t testing.TB, rev string) {
	t.Helper()
	w.Git(t, "reset", "--quiet", "--hard", rev)
}

// Tag creates tag name at HEAD, annotated (message = name) if requested.
func (w *Workdir) Tag(t testing.TB, name string, annotated bool) {
	t.Helper()
	if annotated {
		w.Git(t, "tag", "-a", "-m", name, name)
		return
	}
	w.Git(t, "tag", name)
}

// Push runs git push origin with the given refspecs. Refspecs starting
// with '+' force-update and "--tags" pushes all tags; git handles both.
func (w *Workdir) Push(t testing.TB, refspecs ...string) {
	t.Helper()
	w.Git(t, append([]string{"push", "--quiet", "origin"}, refspecs...)...)
}

// DeleteRemoteBranch deletes branch on origin.
func (w *Workdir) DeleteRemoteBranch(t testing.TB, branch string) {
	t.Helper()
	w.Git(t, "push", "--quiet", "origin", "--delete", branch)
}

// Git runs git with args in the working tree, failing the test with the
// command output on error, and returns trimmed stdout.
func (w *Workdir) Git(t testing.TB, args ...string) string {
	t.Helper()
	return mustGit(t, w.dir, w.home, args...)
}
