package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Entry is one file of a source revision.
type Entry struct {
	// Path is slash separated and relative to the repository root.
	Path string
	// Mode is 0644, 0755 or a symlink.
	Mode fs.FileMode
	// Size in bytes of the content (of the link target for a symlink).
	Size int64
	// Open returns the content; for a symlink, its target.
	Open func() (io.ReadCloser, error)
}

// Source is a tree of files, such as a Git commit.
type Source interface {
	// Walk calls fn for every file.
	Walk(fn func(Entry) error) error
}

// Key identifies the object an artifact belongs to.
type Key struct {
	Kind, Namespace, Name string
}

func (k Key) dir() string {
	return filepath.Join("artifacts", strings.ToLower(k.Kind), k.Namespace, k.Name)
}

// Stored describes an artifact written to the store.
type Stored struct {
	// Path relative to the store root.
	Path string
	// Digest is sha256:<hex> over every stored path, mode and content.
	Digest string
	// Size is the total size in bytes of the stored files.
	Size int64
	// Skipped lists symlinks left out because they point outside the tree.
	Skipped []string
}

// ErrTooLarge means the tree exceeds the store's size limit.
var ErrTooLarge = errors.New("artifact exceeds the size limit")

// DefaultMaxSize caps the bytes of one artifact.
const DefaultMaxSize = 512 << 20

// Store keeps artifacts under a root directory.
type Store struct {
	root    string
	maxSize int64
}

// Option configures a Store.
type Option func(*Store)

// WithMaxSize caps the total size of one artifact in bytes.
func WithMaxSize(n int64) Option { return func(s *Store) { s.maxSize = n } }

// NewStore returns a store rooted at dir.
func NewStore(dir string, opts ...Option) *Store {
	s := &Store{root: dir, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// Exists reports whether an artifact is present at the relative path.
func (s *Store) Exists(rel string) bool {
	if !filepath.IsLocal(rel) {
		return false
	}
	fi, err := os.Stat(filepath.Join(s.root, rel))
	return err == nil && fi.IsDir()
}

// Write stores src for key at revision, leaving out what the ignore rules
// match. The same revision with the same content lands in the same directory.
func (s *Store) Write(ctx context.Context, key Key, revision string, src Source, ignore *Ignore) (*Stored, error) {
	if err := s.collectIgnoreFiles(src, ignore); err != nil {
		return nil, err
	}
	tmpParent := filepath.Join(s.root, "tmp")
	if err := os.MkdirAll(tmpParent, 0o700); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(tmpParent, "stage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	w := &writer{ctx: ctx, dir: stage, ignore: ignore, limit: s.maxSize}
	if err := src.Walk(w.write); err != nil {
		return nil, err
	}
	stored := &Stored{Digest: w.digest(), Size: w.size, Skipped: w.skipped}
	stored.Path = filepath.Join(key.dir(), dirName(revision, stored.Digest))
	return stored, s.publish(stage, stored.Path)
}

// collectIgnoreFiles adds every .flotillaignore of src to ignore.
func (s *Store) collectIgnoreFiles(src Source, ignore *Ignore) error {
	return src.Walk(func(e Entry) error {
		if path.Base(e.Path) != IgnoreFile || !e.Mode.IsRegular() {
			return nil
		}
		content, err := readAll(e, 1<<20)
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.Path, err)
		}
		dir := path.Dir(e.Path)
		if dir == "." {
			dir = ""
		}
		ignore.AddFile(dir, string(content))
		return nil
	})
}

// publish moves a staged tree to its final place, unless an identical one is there.
func (s *Store) publish(stage, rel string) error {
	final := filepath.Join(s.root, rel)
	if s.Exists(rel) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := os.Rename(stage, final); err != nil {
		return fmt.Errorf("publishing artifact: %w", err)
	}
	return nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func dirName(revision, digest string) string {
	name := unsafeChars.ReplaceAllString(revision, "-")
	if len(name) > 180 {
		name = name[len(name)-180:]
	}
	return name + "." + strings.TrimPrefix(digest, "sha256:")[:12]
}

// Remove deletes every artifact of key.
func (s *Store) Remove(key Key) error {
	return os.RemoveAll(filepath.Join(s.root, key.dir()))
}

// GC deletes artifacts of key except the one at keep and the newest other
// one, so a reader that started on the previous revision can finish.
func (s *Store) GC(key Key, keep string) ([]string, error) {
	dir := filepath.Join(s.root, key.dir())
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	type aged struct {
		rel string
		mod int64
	}
	var others []aged
	for _, e := range entries {
		rel := filepath.Join(key.dir(), e.Name())
		if rel == keep || !e.IsDir() {
			continue
		}
		if fi, err := e.Info(); err == nil {
			others = append(others, aged{rel, fi.ModTime().UnixNano()})
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].mod > others[j].mod })
	var removed []string
	for i, o := range others {
		if i == 0 {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.root, o.rel)); err != nil {
			return removed, err
		}
		removed = append(removed, o.rel)
	}
	return removed, nil
}

// writer copies entries into a staging directory and hashes them.
type writer struct {
	ctx     context.Context
	dir     string
	ignore  *Ignore
	limit   int64
	size    int64
	files   []string
	skipped []string
}

func (w *writer) write(e Entry) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if !filepath.IsLocal(filepath.FromSlash(e.Path)) {
		return fmt.Errorf("refusing path %q: it leaves the repository root", e.Path)
	}
	if w.ignore != nil && w.ignore.Match(e.Path, false) {
		return nil
	}
	dst := filepath.Join(w.dir, filepath.FromSlash(e.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if e.Mode&fs.ModeSymlink != 0 {
		return w.symlink(e, dst)
	}
	return w.file(e, dst)
}

func (w *writer) file(e Entry, dst string) error {
	if w.size+e.Size > w.limit {
		return fmt.Errorf("%w of %d bytes at %s", ErrTooLarge, w.limit, e.Path)
	}
	r, err := e.Open()
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.Path, err)
	}
	defer r.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, e.Mode.Perm())
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, w.limit-w.size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", e.Path, err)
	}
	if w.size += n; w.size > w.limit {
		return fmt.Errorf("%w of %d bytes at %s", ErrTooLarge, w.limit, e.Path)
	}
	w.files = append(w.files, fmt.Sprintf("%o %s %x", e.Mode.Perm(), e.Path, h.Sum(nil)))
	return nil
}

// symlink recreates a link whose target stays inside the tree; others are skipped.
func (w *writer) symlink(e Entry, dst string) error {
	target, err := readAll(e, 4096)
	if err != nil {
		return fmt.Errorf("reading link %s: %w", e.Path, err)
	}
	resolved := path.Join(path.Dir(e.Path), string(target))
	if path.IsAbs(string(target)) || !filepath.IsLocal(filepath.FromSlash(resolved)) {
		w.skipped = append(w.skipped, e.Path)
		return nil
	}
	if err := os.Symlink(string(target), dst); err != nil {
		return err
	}
	w.files = append(w.files, fmt.Sprintf("link %s %s", e.Path, target))
	return nil
}

func (w *writer) digest() string {
	sort.Strings(w.files)
	h := sha256.New()
	for _, f := range w.files {
		io.WriteString(h, f)
		io.WriteString(h, "\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func readAll(e Entry, max int64) ([]byte, error) {
	r, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, max))
}
