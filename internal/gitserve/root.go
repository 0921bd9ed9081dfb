package gitserve

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Root is a directory of bare repositories shared by the servers in this
// package. Repository "name" lives in Dir/name.git.
type Root struct{ Dir string }

// NewRoot returns the Root in dir, its symbolic links resolved (the SSH
// server compares real paths).
func NewRoot(dir string) (*Root, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("git root %s: %w", dir, err)
	}
	return &Root{Dir: real}, nil
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
func (r *Root) InitBare(name string) (string, error) {
	p := r.Path(name)
	err := withHome(func(home string) error {
		_, err := Git(r.Dir, home, nil, "init", "--quiet", "--bare", "--initial-branch=main", p)
		return err
	})
	return p, err
}

// Seed creates the bare repository "<name>.git" holding files (path:
// content) in one commit on main, made with msg in a work tree under base;
// it returns the work tree, whose origin is the repository, and the
// commit's full SHA.
func (r *Root) Seed(name, base string, files map[string]string, msg string) (*Workdir, string, error) {
	bare, err := r.InitBare(name)
	if err != nil {
		return nil, "", err
	}
	wd, err := NewWorkdir(base, bare)
	if err != nil {
		return nil, "", err
	}
	if err := wd.WriteFiles(files); err != nil {
		return nil, "", err
	}
	sha, err := wd.CommitAndPush(msg)
	return wd, sha, err
}

// SetHook installs script as the Git hook named hook (post-receive, for
// example) of the bare repository "<name>.git"; pushes run it as Git does.
func (r *Root) SetHook(name, hook, script string) error {
	p := filepath.Join(r.Path(name), "hooks", hook)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		return fmt.Errorf("setting hook %s of %s: %w", hook, name, err)
	}
	return nil
}

// resolve maps a repository path from an SSH command ("name.git" or
// "/name.git") to a directory under r.Dir, refusing anything that escapes
// the root, including through symbolic links.
func (r *Root) resolve(p string) (string, error) {
	rel := strings.TrimPrefix(filepath.ToSlash(p), "/")
	for _, part := range strings.Split(rel, "/") {
		if part == ".." {
			return "", fmt.Errorf("repository %q escapes the root", p)
		}
	}
	if rel == "" || filepath.IsAbs(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("invalid repository %q", p)
	}
	base, err := filepath.EvalSymlinks(r.Dir)
	if err != nil {
		return "", err
	}
	for _, cand := range []string{rel, rel + ".git"} {
		real, err := filepath.EvalSymlinks(filepath.Join(base, filepath.FromSlash(cand)))
		if err != nil {
			continue
		}
		if !within(base, real) {
			return "", fmt.Errorf("repository %q escapes the root", p)
		}
		if fi, err := os.Stat(real); err == nil && fi.IsDir() {
			return real, nil
		}
	}
	return "", fmt.Errorf("repository %q not found", p)
}

// within reports whether path is strictly inside dir.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." &&
		!strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
