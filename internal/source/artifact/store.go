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

// validate refuses keys that would name a directory shared by other keys.
func (k Key) validate() error {
	for _, part := range []string{k.Kind, k.Namespace, k.Name} {
		if part == "" || !filepath.IsLocal(part) || strings.ContainsAny(part, `/\`) {
			return fmt.Errorf("invalid artifact key %+v: kind, namespace and name must be single path elements", k)
		}
	}
	return nil
}

// Holds reports whether rel, a path relative to the store root (an
// artifact path in a status), names an artifact of k: a directory directly
// in k's directory. A path in another object's directory is refused, so a
// status written by someone else cannot point a Stack at another tenant's
// artifact.
func (k Key) Holds(rel string) bool {
	return k.validate() == nil && filepath.IsLocal(rel) && filepath.Dir(filepath.Clean(rel)) == k.dir()
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

// ErrTooManyPatterns means the ignore rules hold more than MaxIgnorePatterns.
var ErrTooManyPatterns = errors.New("too many ignore patterns")

// ErrTooManyFiles means the tree holds more files than the store's limit.
var ErrTooManyFiles = errors.New("artifact exceeds the file count limit")

// DefaultMaxSize caps the bytes of one artifact.
const DefaultMaxSize = 512 << 20

// DefaultMaxFiles caps the files and links of one artifact: a fleet
// repository of 50 clusters by 200 objects has about 10,000.
const DefaultMaxFiles = 100_000

// Store keeps artifacts under a root directory.
type Store struct {
	root     string
	maxSize  int64
	maxFiles int
}

// Option configures a Store.
type Option func(*Store)

// WithMaxSize caps the total size of one artifact in bytes.
func WithMaxSize(n int64) Option { return func(s *Store) { s.maxSize = n } }

// WithMaxFiles caps the number of files and links of one artifact.
func WithMaxFiles(n int) Option { return func(s *Store) { s.maxFiles = n } }

// NewStore returns a store rooted at dir.
func NewStore(dir string, opts ...Option) *Store {
	s := &Store{root: dir, maxSize: DefaultMaxSize, maxFiles: DefaultMaxFiles}
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
// (nil: none but the defaults) and the tree's .flotillaignore files match.
// The same revision with the same content lands in the same directory.
// Files are written through an os.Root on the staging directory, so no entry
// can land outside it, and every symlink that resolves outside the tree (also
// through other symlinks) is removed and listed in Stored.Skipped.
func (s *Store) Write(ctx context.Context, key Key, revision string, src Source, ignore *Ignore) (*Stored, error) {
	if err := key.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ignore = ignore.clone()
	if err := s.collectIgnoreFiles(ctx, src, ignore); err != nil {
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
	stored, err := s.stage(ctx, stage, src, ignore)
	if err != nil {
		return nil, err
	}
	stored.Path = filepath.Join(key.dir(), dirName(revision, stored.Digest))
	return stored, s.publish(stage, stored.Path)
}

// stage writes src into the directory stage.
func (s *Store) stage(ctx context.Context, stage string, src Source, ignore *Ignore) (*Stored, error) {
	root, err := os.OpenRoot(stage)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	w := &writer{ctx: ctx, root: root, ignore: ignore, limit: s.maxSize, maxFiles: s.maxFiles}
	if err := src.Walk(w.write); err != nil {
		return nil, err
	}
	if err := w.dropEscapingLinks(stage); err != nil {
		return nil, err
	}
	return &Stored{Digest: w.digest(), Size: w.size, Skipped: w.skipped}, nil
}

// collectIgnoreFiles adds every .flotillaignore of src to ignore.
func (s *Store) collectIgnoreFiles(ctx context.Context, src Source, ignore *Ignore) error {
	return src.Walk(func(e Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
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
		if n := ignore.patterns(); n > MaxIgnorePatterns {
			return fmt.Errorf("%w: %s brings the ignore patterns to %d, more than the %d allowed in all %s files and spec.ignore together: use fewer, broader patterns", ErrTooManyPatterns, e.Path, n, MaxIgnorePatterns, IgnoreFile)
		}
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
	if err := key.validate(); err != nil {
		return err
	}
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
	ctx      context.Context
	root     *os.Root
	ignore   *Ignore
	limit    int64
	size     int64
	maxFiles int
	entries  int
	files    map[string]string // path -> digest line
	links    []string
	skipped  []string
}

func (w *writer) write(e Entry) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	rel := filepath.FromSlash(e.Path)
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("refusing path %q: it leaves the repository root", e.Path)
	}
	if w.ignore.Match(e.Path, false) {
		return nil
	}
	if w.entries++; w.entries > w.maxFiles {
		return fmt.Errorf("%w of %d files at %s: list the repository's large generated trees in spec.ignore", ErrTooManyFiles, w.maxFiles, e.Path)
	}
	if dir := filepath.Dir(rel); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("refusing path %q: %w", e.Path, err)
		}
	}
	if e.Mode&fs.ModeSymlink != 0 {
		return w.symlink(e, rel)
	}
	return w.file(e, rel)
}

func (w *writer) file(e Entry, rel string) error {
	if w.size+e.Size > w.limit {
		return fmt.Errorf("%w of %d bytes at %s", ErrTooLarge, w.limit, e.Path)
	}
	r, err := e.Open()
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.Path, err)
	}
	defer r.Close()
	f, err := w.root.OpenFile(rel, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, e.Mode.Perm())
	if err != nil {
		return fmt.Errorf("refusing path %q: %w", e.Path, err)
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
	w.record(e.Path, fmt.Sprintf("%o %s %x", e.Mode.Perm(), e.Path, h.Sum(nil)))
	return nil
}

func (w *writer) record(path, line string) {
	if w.files == nil {
		w.files = map[string]string{}
	}
	w.files[path] = line
}

// symlink recreates a link whose target text stays inside the tree; links
// that escape only through other links are caught by dropEscapingLinks.
func (w *writer) symlink(e Entry, rel string) error {
	target, err := readAll(e, 4096)
	if err != nil {
		return fmt.Errorf("reading link %s: %w", e.Path, err)
	}
	resolved := path.Join(path.Dir(e.Path), string(target))
	if path.IsAbs(string(target)) || !filepath.IsLocal(filepath.FromSlash(resolved)) {
		w.skipped = append(w.skipped, e.Path)
		return nil
	}
	if err := w.root.Symlink(string(target), rel); err != nil {
		return fmt.Errorf("refusing link %q: %w", e.Path, err)
	}
	w.links = append(w.links, e.Path)
	w.record(e.Path, fmt.Sprintf("link %s %s", e.Path, target))
	return nil
}

// dropEscapingLinks removes every link that resolves outside stage, or
// does not resolve at all. Each
// round judges all links on the same tree before removing any, so a link
// that escapes through another escaping link is caught too; rounds repeat
// until none is removed.
func (w *writer) dropEscapingLinks(stage string) error {
	real, err := filepath.EvalSymlinks(stage)
	if err != nil {
		return err
	}
	for {
		var escaping, kept []string
		for _, l := range w.links {
			resolved, err := filepath.EvalSymlinks(filepath.Join(stage, filepath.FromSlash(l)))
			// A link that leads nowhere here is refused too: once the tree
			// is published elsewhere, what it names may exist, in another
			// artifact.
			if err != nil || !within(real, resolved) {
				escaping = append(escaping, l)
			} else {
				kept = append(kept, l)
			}
		}
		if len(escaping) == 0 {
			return nil
		}
		for _, l := range escaping {
			if err := os.Remove(filepath.Join(stage, filepath.FromSlash(l))); err != nil {
				return err
			}
			delete(w.files, l)
		}
		w.skipped = append(w.skipped, escaping...)
		w.links = kept
	}
}

func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

func (w *writer) digest() string {
	lines := make([]string, 0, len(w.files))
	for _, l := range w.files {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, f := range lines {
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
