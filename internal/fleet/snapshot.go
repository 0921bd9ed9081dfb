package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Snapshot is the fleet directory at one revision: every file, its mode,
// its Git blob hash and its content. It is read-only once built, and safe
// for concurrent use.
type Snapshot struct {
	// Name is the revision's short hash, or "working tree".
	Name string

	files  map[string]fileEntry // slash path relative to the fleet directory
	paths  []string             // sorted
	direct map[string][]string  // directory -> the files directly in it, sorted
	dirs   map[string]bool      // every directory that holds a file, "." included

	fullOnce sync.Once
	fullDir  string
	fullErr  error
}

type fileEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
	data []byte
}

func newSnapshot(name string) *Snapshot {
	return &Snapshot{Name: name, files: map[string]fileEntry{}}
}

func (s *Snapshot) add(p string, mode filemode.FileMode, h plumbing.Hash, data []byte) {
	s.files[p] = fileEntry{mode: mode, hash: h, data: data}
}

// index builds the lookups the closure needs.
func (s *Snapshot) index() {
	s.paths = make([]string, 0, len(s.files))
	s.direct = map[string][]string{}
	s.dirs = map[string]bool{".": true}
	for p := range s.files {
		s.paths = append(s.paths, p)
	}
	sort.Strings(s.paths)
	for _, p := range s.paths {
		d := path.Dir(p)
		s.direct[d] = append(s.direct[d], p)
		for ; d != "."; d = path.Dir(d) {
			s.dirs[d] = true
		}
	}
}

// isFile and isDir say what p (slash, relative) is in the snapshot.
func (s *Snapshot) isFile(p string) bool { _, ok := s.files[p]; return ok }
func (s *Snapshot) isDir(p string) bool  { return s.dirs[p] }

// subtree returns every file under dir.
func (s *Snapshot) subtree(dir string) []string {
	if dir == "." {
		return s.paths
	}
	prefix := dir + "/"
	i := sort.SearchStrings(s.paths, prefix)
	j := i
	for j < len(s.paths) && strings.HasPrefix(s.paths[j], prefix) {
		j++
	}
	return s.paths[i:j]
}

// Clusters returns the names of the directories directly under clusters/.
func (s *Snapshot) Clusters() []string {
	seen := map[string]bool{}
	var names []string
	for _, p := range s.subtree("clusters") {
		rest := strings.TrimPrefix(p, "clusters/")
		name, _, isDir := strings.Cut(rest, "/")
		if isDir && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// digest is a hash of the named files' paths, modes and contents.
func (s *Snapshot) digest(paths []string) string {
	h := sha256.New()
	for _, p := range paths {
		e := s.files[p]
		fmt.Fprintf(h, "%s\x00%o\x00%s\n", p, uint32(e.mode), e.hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// materialize writes the named files under dir. Every write goes through
// an os.Root on dir, so no entry, even one below a symlink of the
// repository (a tree can hold both a link "a" and a file "a/b"), is written
// outside it.
func (s *Snapshot) materialize(ctx context.Context, dir string, paths []string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	made := map[string]bool{}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.materializeOne(root, p, made); err != nil {
			return fmt.Errorf("writing %s of the snapshot: %w", p, err)
		}
	}
	return nil
}

// materializeOne writes the file or link p through root.
func (s *Snapshot) materializeOne(root *os.Root, p string, made map[string]bool) error {
	e := s.files[p]
	rel := filepath.FromSlash(p)
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("the path leaves the snapshot")
	}
	if parent := filepath.Dir(rel); parent != "." && !made[parent] {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		made[parent] = true
	}
	if e.mode == filemode.Symlink {
		return root.Symlink(string(e.data), rel)
	}
	return root.WriteFile(rel, e.data, 0o644)
}

// full materializes the whole snapshot once, under tmp, and returns its
// directory.
func (s *Snapshot) full(ctx context.Context, tmp string) (string, error) {
	s.fullOnce.Do(func() {
		dir, err := os.MkdirTemp(tmp, "full-")
		if err == nil {
			err = s.materialize(ctx, dir, s.paths)
		}
		s.fullDir, s.fullErr = dir, err
	})
	return s.fullDir, s.fullErr
}
