package dashboard

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// repoRefresh is how often the default branch's head is read again.
const repoRefresh = 5 * time.Second

// repoReader reads the local clone of the fleet repository (bare or not):
// the default branch's head, the other branches, commits, and how far a
// revision is behind the head.
type repoReader struct {
	dir  string
	git  *git.Repository
	bare bool

	mu       sync.Mutex
	branch   string // the default branch, as a revision: main or origin/main
	head     plumbing.Hash
	branches []string
	behinds  map[plumbing.Hash]int // at head; emptied when it moves
}

// openRepo opens the clone at dir and reads its default branch.
func openRepo(dir string) (*repoReader, error) {
	g, err := git.PlainOpen(dir) // a bare repository, or a clone's top level
	if err != nil {
		g, err = git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	}
	if err != nil {
		return nil, fmt.Errorf("opening the fleet repository %s: %w (give --repo a clone of it, bare or not)", dir, err)
	}
	_, err = g.Worktree()
	r := &repoReader{dir: dir, git: g, bare: errors.Is(err, git.ErrIsBareRepository)}
	if _, err := r.refresh(); err != nil {
		return nil, err
	}
	return r, nil
}

// refresh reads the default branch's head and the branches; moved is true
// when the head changed.
func (r *repoReader) refresh() (moved bool, err error) {
	r.mu.Lock() // go-git's repository is not safe for concurrent use
	defer r.mu.Unlock()
	branch, head, err := r.defaultBranch()
	if err != nil {
		return false, err
	}
	branches, err := r.listBranches(branch)
	if err != nil {
		return false, err
	}
	moved = head != r.head
	if moved {
		r.behinds = map[plumbing.Hash]int{}
	}
	r.branch, r.head, r.branches = branch, head, branches
	return moved, nil
}

// defaultBranch is the branch the clusters follow: origin/HEAD's target in
// a clone, HEAD's branch in a bare repository, else main or master.
func (r *repoReader) defaultBranch() (string, plumbing.Hash, error) {
	var candidates []plumbing.ReferenceName
	if ref, err := r.git.Reference(plumbing.NewRemoteHEADReferenceName("origin"), false); err == nil && ref.Type() == plumbing.SymbolicReference {
		candidates = append(candidates, ref.Target())
	}
	if ref, err := r.git.Reference(plumbing.HEAD, false); err == nil && ref.Type() == plumbing.SymbolicReference && r.bare {
		candidates = append(candidates, ref.Target())
	}
	candidates = append(candidates, plumbing.NewBranchReferenceName("main"), plumbing.NewRemoteReferenceName("origin", "main"),
		plumbing.NewBranchReferenceName("master"), plumbing.NewRemoteReferenceName("origin", "master"))
	for _, name := range candidates {
		if ref, err := r.git.Reference(name, true); err == nil {
			return name.Short(), ref.Hash(), nil
		}
	}
	return "", plumbing.ZeroHash, fmt.Errorf("the fleet repository %s has no default branch (origin/HEAD, main or master)", r.dir)
}

// listBranches returns the local and origin's branches but the default,
// sorted.
func (r *repoReader) listBranches(defaultBranch string) ([]string, error) {
	refs, err := r.git.References()
	if err != nil {
		return nil, fmt.Errorf("listing the branches of %s: %w", r.dir, err)
	}
	var out []string
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		n := ref.Name()
		if (n.IsBranch() || n.IsRemote() && strings.HasPrefix(n.String(), "refs/remotes/origin/")) && ref.Type() == plumbing.HashReference {
			if short := n.Short(); short != defaultBranch && short != "origin/HEAD" {
				out = append(out, short)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// info is the Fleet's Repo.
func (r *repoReader) info() *Repo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &Repo{Branch: r.branch, Head: r.head.String(), Branches: slices.Clone(r.branches)}
}

// revisionHash returns the commit hash of a revision: main@sha1:<hash>,
// sha1:<hash> or a bare hash; false when it has none.
func revisionHash(rev string) (plumbing.Hash, bool) {
	h := rev
	if i := strings.LastIndex(rev, ":"); i >= 0 {
		h = rev[i+1:]
	}
	if len(h) != 40 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(h), true
}

// behind counts the commits of the default branch's head that the
// revision lacks (git rev-list REV..HEAD --count); -1 when the clone does
// not have the revision's commit.
func (r *repoReader) behind(revision string) int {
	h, ok := revisionHash(revision)
	if !ok {
		return -1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if h == r.head {
		return 0
	}
	if n, ok := r.behinds[h]; ok {
		return n
	}
	n, err := countBehind(r.git, h, r.head)
	if err != nil {
		n = -1
	}
	r.behinds[h] = n
	return n
}

// countBehind counts the commits reachable from head and not from from.
func countBehind(g *git.Repository, from, head plumbing.Hash) (int, error) {
	fc, err := g.CommitObject(from)
	if err != nil {
		return 0, err
	}
	seen := map[plumbing.Hash]bool{}
	err = object.NewCommitPreorderIter(fc, nil, nil).ForEach(func(c *object.Commit) error {
		seen[c.Hash] = true
		return nil
	})
	if err != nil {
		return 0, err
	}
	hc, err := g.CommitObject(head)
	if err != nil {
		return 0, err
	}
	n := 0
	err = object.NewCommitPreorderIter(hc, seen, nil).ForEach(func(*object.Commit) error {
		n++
		return nil
	})
	if errors.Is(err, storer.ErrStop) {
		err = nil
	}
	return n, err
}

// commit returns the commit of a revision, nil when the clone lacks it.
func (r *repoReader) commit(revision string) *Commit {
	h, ok := revisionHash(revision)
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.git.CommitObject(h)
	if err != nil {
		return nil
	}
	return &Commit{Hash: c.Hash.String(), Author: c.Author.Name, Time: c.Author.When.UTC(), Message: strings.TrimSpace(c.Message)}
}

// subject is the first line of a commit's message.
func subject(message string) string {
	s, _, _ := strings.Cut(message, "\n")
	return strings.TrimSpace(s)
}
