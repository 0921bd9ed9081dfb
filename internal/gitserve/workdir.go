package gitserve

import (
	"fmt"
	"os"
	"path/filepath"
)

// Workdir is a non-bare repository used to make commits and push them to a
// remote named "origin" with the git CLI.
type Workdir struct {
	dir  string
	home string
}

// NewWorkdir initialises a repository (branch main) in a new directory
// under base, with remote "origin" set to remote and a committer identity
// configured; its git HOME is another new directory under base.
func NewWorkdir(base, remote string) (*Workdir, error) {
	dir, err := os.MkdirTemp(base, "work-")
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp(base, "home-")
	if err != nil {
		return nil, err
	}
	w := &Workdir{dir: dir, home: home}
	steps := [][]string{{"init", "--quiet", "--initial-branch=main"}, {"remote", "add", "origin", remote}}
	for _, kv := range [][2]string{
		{"user.name", "gitserver test"},
		{"user.email", "gitserver@example.invalid"},
		{"commit.gpgsign", "false"},
		{"tag.gpgsign", "false"},
		{"core.autocrlf", "false"},
		{"protocol.file.allow", "always"},
	} {
		steps = append(steps, []string{"config", kv[0], kv[1]})
	}
	for _, args := range steps {
		if _, err := w.Git(args...); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Dir returns the working tree directory.
func (w *Workdir) Dir() string { return w.dir }

// path returns the absolute path of rel inside the working tree, creating
// its parent directories.
func (w *Workdir) path(rel string) (string, error) {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("work tree %s: %w", rel, err)
	}
	return p, nil
}

// WriteFile writes content to rel, creating parent directories.
func (w *Workdir) WriteFile(rel, content string) error {
	p, err := w.path(rel)
	if err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// WriteFiles writes each file of files (path relative to the work tree:
// content), creating parent directories.
func (w *Workdir) WriteFiles(files map[string]string) error {
	for rel, content := range files {
		if err := w.WriteFile(rel, content); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes rel (file or directory tree) from the working tree.
func (w *Workdir) Remove(rel string) error {
	return os.RemoveAll(filepath.Join(w.dir, filepath.FromSlash(rel)))
}

// Symlink creates a symbolic link rel pointing to target.
func (w *Workdir) Symlink(target, rel string) error {
	p, err := w.path(rel)
	if err != nil {
		return err
	}
	return os.Symlink(target, p)
}

// Commit stages everything and commits (empty commits allowed), returning
// the full SHA of the new HEAD.
func (w *Workdir) Commit(msg string) (string, error) {
	if _, err := w.Git("add", "-A"); err != nil {
		return "", err
	}
	if _, err := w.Git("commit", "--quiet", "--allow-empty", "-m", msg); err != nil {
		return "", err
	}
	return w.Git("rev-parse", "HEAD")
}

// Checkout switches to branch, creating it at HEAD when create is true.
func (w *Workdir) Checkout(branch string, create bool) error {
	args := []string{"checkout", "--quiet", branch}
	if create {
		args = []string{"checkout", "--quiet", "-b", branch}
	}
	_, err := w.Git(args...)
	return err
}

// ResetHard runs git reset --hard rev.
func (w *Workdir) ResetHard(rev string) error {
	_, err := w.Git("reset", "--quiet", "--hard", rev)
	return err
}

// Tag creates tag name at HEAD, annotated (message = name) if requested.
func (w *Workdir) Tag(name string, annotated bool) error {
	args := []string{"tag", name}
	if annotated {
		args = []string{"tag", "-a", "-m", name, name}
	}
	_, err := w.Git(args...)
	return err
}

// Push runs git push origin with the given refspecs. Refspecs starting
// with '+' force-update and "--tags" pushes all tags; git handles both.
func (w *Workdir) Push(refspecs ...string) error {
	_, err := w.Git(append([]string{"push", "--quiet", "origin"}, refspecs...)...)
	return err
}

// CommitAndPush commits everything as Commit does and pushes main,
// returning the commit's full SHA.
func (w *Workdir) CommitAndPush(msg string) (string, error) {
	sha, err := w.Commit(msg)
	if err != nil {
		return "", err
	}
	return sha, w.Push("main")
}

// DeleteRemoteBranch deletes branch on origin.
func (w *Workdir) DeleteRemoteBranch(branch string) error {
	_, err := w.Git("push", "--quiet", "origin", "--delete", branch)
	return err
}

// Git runs git with args in the working tree and returns trimmed stdout;
// its error holds the command's output.
func (w *Workdir) Git(args ...string) (string, error) {
	return Git(w.dir, w.home, nil, args...)
}
