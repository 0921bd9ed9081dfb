package fleet

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// WorkingTree names the working tree as a revision: the files on disk,
// uncommitted changes included.
const WorkingTree = ""

// Repo is a fleet repository: a Git repository and the directory of it that
// holds clusters/ (its top level, or a subdirectory).
type Repo struct {
	git    *git.Repository
	top    string // the worktree's top level on disk
	dir    string // the fleet directory on disk
	prefix string // dir relative to top, slash-separated; "" for top
	blobs  map[plumbing.Hash][]byte
}

// OpenRepo opens the Git repository that holds dir; dir is the fleet
// directory, the one holding clusters/.
func OpenRepo(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	g, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("opening the Git repository of %s: %w (run plan inside a clone, or pass --repo)", dir, err)
	}
	wt, err := g.Worktree()
	if err != nil {
		return nil, fmt.Errorf("%s: %w (plan needs a clone with a working tree)", dir, err)
	}
	top := wt.Filesystem.Root()
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return nil, fmt.Errorf("%s is not inside the Git repository at %s", dir, top)
	}
	prefix := filepath.ToSlash(rel)
	if prefix == "." {
		prefix = ""
	}
	return &Repo{git: g, top: top, dir: abs, prefix: prefix, blobs: map[plumbing.Hash][]byte{}}, nil
}

// OpenBare opens a bare repository whose top level is the fleet
// directory. Its commits can be planned (CommitSnapshot, Snapshots with a
// head revision); its working tree cannot, as it has none.
func OpenBare(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	g, err := git.PlainOpen(abs)
	if err != nil {
		return nil, fmt.Errorf("opening the Git repository %s: %w", dir, err)
	}
	return &Repo{git: g, top: abs, dir: abs, blobs: map[plumbing.Hash][]byte{}}, nil
}

// Dir is the fleet directory on disk.
func (r *Repo) Dir() string { return r.dir }

// Resolve returns the commit rev names (a branch, tag, hash, HEAD~2...).
func (r *Repo) Resolve(rev string) (*object.Commit, error) {
	h, err := r.git.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w (name a branch, tag or commit of this repository)", rev, err)
	}
	c, err := r.git.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w", rev, err)
	}
	return c, nil
}

// DefaultBranch returns the name of the default branch: origin/HEAD's
// target, else main, else master (local or origin's).
func (r *Repo) DefaultBranch() (string, error) {
	if ref, err := r.git.Reference(plumbing.NewRemoteHEADReferenceName("origin"), false); err == nil && ref.Type() == plumbing.SymbolicReference {
		name := ref.Target().Short()
		if _, err := r.git.ResolveRevision(plumbing.Revision(name)); err == nil {
			return name, nil
		}
	}
	for _, name := range []string{"main", "origin/main", "master", "origin/master"} {
		if _, err := r.git.ResolveRevision(plumbing.Revision(name)); err == nil {
			return name, nil
		}
	}
	return "", errors.New("no default branch found (origin/HEAD, main or master): pass --base")
}

// DefaultBase returns the merge-base of HEAD with the default branch, and
// a description of it ("merge-base of HEAD and main").
func (r *Repo) DefaultBase() (*object.Commit, string, error) {
	branch, err := r.DefaultBranch()
	if err != nil {
		return nil, "", err
	}
	head, err := r.Resolve("HEAD")
	if err != nil {
		return nil, "", err
	}
	other, err := r.Resolve(branch)
	if err != nil {
		return nil, "", err
	}
	bases, err := head.MergeBase(other)
	if err != nil {
		return nil, "", fmt.Errorf("merge-base of HEAD and %s: %w", branch, err)
	}
	if len(bases) == 0 {
		return nil, "", fmt.Errorf("HEAD and %s have no common ancestor: pass --base", branch)
	}
	return bases[0], "merge-base of HEAD and " + branch, nil
}

// CommitSnapshot reads the fleet directory of commit c. Blob contents are
// shared between the snapshots of one Repo; call it from one goroutine.
func (r *Repo) CommitSnapshot(c *object.Commit) (*Snapshot, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Hash, err)
	}
	if r.prefix != "" {
		if tree, err = tree.Tree(r.prefix); err != nil {
			return nil, fmt.Errorf("commit %s has no directory %s: %w", short(c.Hash), r.prefix, err)
		}
	}
	s := newSnapshot(short(c.Hash))
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", short(c.Hash), err)
		}
		if !isFileMode(entry.Mode) {
			continue
		}
		data, err := r.blob(entry.Hash)
		if err != nil {
			return nil, fmt.Errorf("commit %s: %s: %w", short(c.Hash), name, err)
		}
		s.add(name, entry.Mode, entry.Hash, data)
	}
	s.index()
	return s, nil
}

func isFileMode(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Deprecated || m == filemode.Executable || m == filemode.Symlink
}

// blob returns a blob's content, read once per Repo.
func (r *Repo) blob(h plumbing.Hash) ([]byte, error) {
	if b, ok := r.blobs[h]; ok {
		return b, nil
	}
	obj, err := r.git.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	r.blobs[h] = b
	return b, nil
}

// WorktreeSnapshot reads the fleet directory as it is on disk, uncommitted
// changes and untracked files included, .git and Git-ignored files left out.
func (r *Repo) WorktreeSnapshot() (*Snapshot, error) {
	wt, err := r.git.Worktree()
	if err != nil {
		return nil, err
	}
	patterns, err := gitignore.ReadPatterns(wt.Filesystem, nil)
	if err != nil {
		return nil, fmt.Errorf("reading .gitignore files: %w", err)
	}
	ignored := gitignore.NewMatcher(patterns)
	s := newSnapshot("working tree")
	err = filepath.WalkDir(r.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r.dir, p)
		if rel == "." {
			return nil
		}
		return r.addWorktreeEntry(s, ignored, filepath.ToSlash(rel), p, d)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the working tree: %w", err)
	}
	s.index()
	return s, nil
}

// addWorktreeEntry adds one file of the working tree to s.
func (r *Repo) addWorktreeEntry(s *Snapshot, ignored gitignore.Matcher, rel, abs string, d os.DirEntry) error {
	inRepo := strings.Split(path.Join(r.prefix, rel), "/")
	if d.Name() == ".git" || ignored.Match(inRepo, d.IsDir()) {
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	}
	switch {
	case d.IsDir():
		return nil
	case d.Type()&os.ModeSymlink != 0:
		target, err := os.Readlink(abs)
		if err != nil {
			return err
		}
		data := []byte(target)
		s.add(rel, filemode.Symlink, plumbing.ComputeHash(plumbing.BlobObject, data), data)
	case d.Type().IsRegular():
		data, err := os.ReadFile(abs)
		if err != nil {
			return err
		}
		s.add(rel, filemode.Regular, plumbing.ComputeHash(plumbing.BlobObject, data), data)
	}
	return nil
}

func short(h plumbing.Hash) string { return h.String()[:7] }

// TopLevel returns the top level of the Git working tree that holds dir.
func TopLevel(dir string) (string, error) {
	r, err := OpenRepo(dir)
	if err != nil {
		return "", err
	}
	return r.top, nil
}
