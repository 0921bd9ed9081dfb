package render

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// artifactDir is where the artifact root is mounted in the in-memory file
// system. Anything that climbs above it finds nothing: the artifact is the
// only content there is.
const artifactDir = "/artifact"

// entryCost is charged against the total size limit for every file and
// directory, so that a tree of millions of empty files is bounded too.
const entryCost = 512

// memNamePattern is the set of names kyaml's in-memory file system accepts
// (filesys.isLegalFileNameForCreation).
var memNamePattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.:]+$`)

// refusal records why a path of the artifact was left out of the in-memory
// file system. It is reported only if a kustomization or a generated listing
// refers to that path, so an unrelated odd file does not break every render.
type refusal struct {
	cause  error  // ErrOutsideRoot, ErrTooLarge or ErrNotFound
	reason string // what is wrong and what to do, without file content
	link   bool   // the path is a symlink
}

// tree is the artifact, loaded into kyaml's in-memory file system.
type tree struct {
	fs       filesys.FileSystem
	refused  map[string]refusal // relative path -> why it is missing
	root     *os.Root
	realRoot string
	lim      limits
	loaded   int64
	// generated is the listing of the kustomization render generated for
	// the rendered path, nil when the path has its own.
	generated []string
}

// limits caps what is loaded.
type limits struct {
	file  int64 // bytes of one file
	total int64 // bytes of all files, plus entryCost per entry
}

// loadTree copies the regular files under root into an in-memory file
// system, skipping .git. Symlinks are followed only when their real target is
// inside root; every read goes through os.Root, which refuses escapes as well.
func loadTree(ctx context.Context, root string, lim limits) (*tree, error) {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("%w: artifact root: %v", ErrNotFound, err)}
	}
	r, err := os.OpenRoot(real)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("%w: artifact root: %v", ErrNotFound, err)}
	}
	defer r.Close()
	t := &tree{
		fs:       filesys.MakeFsInMemory(),
		refused:  map[string]refusal{},
		root:     r,
		realRoot: real,
		lim:      lim,
	}
	if err := t.fs.MkdirAll(artifactDir); err != nil {
		return nil, err
	}
	if err := t.copyDir(ctx, ".", real, map[string]bool{real: true}); err != nil {
		return nil, err
	}
	t.root = nil
	return t, nil
}

// copyDir copies the directory rel, whose real location is realDir.
// ancestors holds the real directories on the way down, to stop symlink loops.
func (t *tree) copyDir(ctx context.Context, rel, realDir string, ancestors map[string]bool) error {
	if err := ctx.Err(); err != nil {
		return &Error{Path: rel, Err: err}
	}
	entries, err := t.readDir(rel)
	if err != nil {
		return &Error{Path: rel, Err: fmt.Errorf("reading directory: %w", err)}
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		child := filepath.Join(rel, e.Name())
		if err := t.charge(child, entryCost); err != nil {
			return err
		}
		if !memNamePattern.MatchString(e.Name()) {
			t.refuse(child, ErrNotFound, "its name has characters the renderer does not support (use letters, digits, '-', '_', '.', ':')", e.Type()&fs.ModeSymlink != 0)
			continue
		}
		if err := t.copyEntry(ctx, child, filepath.Join(realDir, e.Name()), e.Type(), ancestors); err != nil {
			return err
		}
	}
	return nil
}

// readDir lists a directory through os.Root, sorted by name.
func (t *tree) readDir(rel string) ([]fs.DirEntry, error) {
	f, err := t.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}

// copyEntry copies one directory entry: a directory, a regular file or a
// symlink. Anything else (devices, sockets, pipes) is refused.
func (t *tree) copyEntry(ctx context.Context, rel, real string, mode fs.FileMode, ancestors map[string]bool) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return t.copyLink(ctx, rel, real, ancestors)
	case mode.IsDir():
		return t.descend(ctx, rel, real, ancestors)
	case mode.IsRegular():
		info, err := t.root.Lstat(rel)
		if err != nil {
			return &Error{Path: rel, Err: err}
		}
		return t.copyFile(rel, info.Size())
	default:
		t.refuse(rel, ErrNotFound, "it is not a regular file", false)
		return nil
	}
}

// copyLink follows a symlink whose real target is inside the root, and
// refuses one that leads outside or nowhere.
func (t *tree) copyLink(ctx context.Context, rel, real string, ancestors map[string]bool) error {
	target, err := filepath.EvalSymlinks(real)
	if err != nil {
		t.refuse(rel, ErrNotFound, "it is a broken symlink: fix or remove it", true)
		return nil
	}
	if !within(t.realRoot, target) {
		t.refuse(rel, ErrOutsideRoot, "it is a symlink that points outside the artifact root: replace it with the file itself, or link to a file inside the repository", true)
		return nil
	}
	info, err := t.root.Stat(rel)
	if err != nil {
		t.refuse(rel, ErrOutsideRoot, "it is a symlink that cannot be followed inside the artifact root (absolute links are not followed: use a relative link)", true)
		return nil
	}
	switch {
	case info.IsDir():
		if ancestors[target] {
			t.refuse(rel, ErrNotFound, "it is a symlink loop: it points at a directory that contains it", true)
			return nil
		}
		return t.descend(ctx, rel, target, ancestors)
	case info.Mode().IsRegular():
		return t.copyFile(rel, info.Size())
	default:
		t.refuse(rel, ErrNotFound, "it is a symlink to something that is not a regular file", true)
		return nil
	}
}

// descend copies a subdirectory, keeping track of the real directories above.
func (t *tree) descend(ctx context.Context, rel, real string, ancestors map[string]bool) error {
	if err := t.fs.MkdirAll(t.abs(rel)); err != nil {
		return &Error{Path: rel, Err: err}
	}
	ancestors[real] = true
	defer delete(ancestors, real)
	return t.copyDir(ctx, rel, real, ancestors)
}

// copyFile reads a regular file through os.Root, within the size limits.
func (t *tree) copyFile(rel string, size int64) error {
	tooLarge := fmt.Sprintf("it is larger than the limit of %d bytes: make it smaller or raise the limit", t.lim.file)
	if size > t.lim.file {
		t.refuse(rel, ErrTooLarge, tooLarge, false)
		return nil
	}
	f, err := t.root.Open(rel)
	if err != nil {
		return &Error{Path: rel, Err: fmt.Errorf("reading file: %w", err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, t.lim.file+1))
	if err != nil {
		return &Error{Path: rel, Err: fmt.Errorf("reading file: %w", err)}
	}
	if int64(len(data)) > t.lim.file {
		t.refuse(rel, ErrTooLarge, tooLarge, false)
		return nil
	}
	if err := t.charge(rel, int64(len(data))); err != nil {
		return err
	}
	return t.fs.WriteFile(t.abs(rel), data)
}

// charge counts n bytes against the total limit.
func (t *tree) charge(rel string, n int64) error {
	t.loaded += n
	if t.loaded <= t.lim.total {
		return nil
	}
	return &Error{Path: rel, Err: fmt.Errorf("%w: the artifact holds more than %d bytes: "+
		"keep large files out of the source (an ignore rule) or raise the limit", ErrTooLarge, t.lim.total)}
}

func (t *tree) refuse(rel string, cause error, reason string, link bool) {
	t.refused[rel] = refusal{cause: cause, reason: reason, link: link}
}

// refusedAt returns the refusal of rel or of the nearest refused directory
// above it.
func (t *tree) refusedAt(rel string) (string, refusal, bool) {
	for p := filepath.Clean(rel); p != "." && p != "/" && p != ".."; p = filepath.Dir(p) {
		if r, ok := t.refused[p]; ok {
			return p, r, true
		}
	}
	return "", refusal{}, false
}

// refusedError is the error for a reference to a refused path.
func (t *tree) refusedError(rel string) error {
	p, r, ok := t.refusedAt(rel)
	if !ok {
		return nil
	}
	return &Error{Path: p, Err: fmt.Errorf("%w: %s is not loaded: %s", r.cause, p, r.reason)}
}

// abs is rel's path in the in-memory file system.
func (t *tree) abs(rel string) string {
	return filepath.Join(artifactDir, rel)
}

func (t *tree) isFile(rel string) bool {
	return t.fs.Exists(t.abs(rel)) && !t.fs.IsDir(t.abs(rel))
}

func (t *tree) isDir(rel string) bool {
	return t.fs.IsDir(t.abs(rel))
}

func (t *tree) readFile(rel string) ([]byte, error) {
	return t.fs.ReadFile(t.abs(rel))
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && filepath.IsLocal(rel)
}
