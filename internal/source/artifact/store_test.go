package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeEntry is one file of a fakeSource; for a symlink, content is the target.
type fakeEntry struct {
	path    string
	mode    fs.FileMode
	content string
	// size overrides the declared size when non-nil (to lie about it).
	size *int64
	// onOpen runs when the content is opened.
	onOpen func()
}

// fakeSource is an in-memory Source that walks its entries in slice order.
type fakeSource []fakeEntry

func (s fakeSource) Walk(fn func(Entry) error) error {
	for _, e := range s {
		size := int64(len(e.content))
		if e.size != nil {
			size = *e.size
		}
		entry := Entry{
			Path: e.path,
			Mode: e.mode,
			Size: size,
			Open: func() (io.ReadCloser, error) {
				if e.onOpen != nil {
					e.onOpen()
				}
				return io.NopCloser(strings.NewReader(e.content)), nil
			},
		}
		if err := fn(entry); err != nil {
			return err
		}
	}
	return nil
}

func file(path, content string) fakeEntry {
	return fakeEntry{path: path, mode: 0o644, content: content}
}
func exe(path, content string) fakeEntry { return fakeEntry{path: path, mode: 0o755, content: content} }
func link(path, target string) fakeEntry {
	return fakeEntry{path: path, mode: fs.ModeSymlink | 0o777, content: target}
}

// reversed returns the entries in the opposite walk order.
func reversed(s fakeSource) fakeSource {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

var testKey = Key{Kind: "GitRepository", Namespace: "team-a", Name: "app"}

// node is what readTree reports for one path of an artifact.
type node struct {
	Kind    string // "file" or "link"
	Exec    bool   // owner executable bit, files only
	Content string // file content or link target
}

// readTree returns every file and symlink below dir, keyed by slash path.
func readTree(t *testing.T, dir string) map[string]node {
	t.Helper()
	got := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[rel] = node{Kind: "link", Content: target}
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			got[rel] = node{Kind: "file", Exec: fi.Mode().Perm()&0o100 != 0, Content: string(b)}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading tree %s: %v", dir, err)
	}
	return got
}

// write stores src in a fresh store and fails the test on error.
func write(t *testing.T, s *Store, key Key, revision string, src Source, ig *Ignore) *Stored {
	t.Helper()
	st, err := s.Write(context.Background(), key, revision, src, ig)
	if err != nil {
		t.Fatalf("Write(%q): %v", revision, err)
	}
	return st
}

// assertNothingPublished checks that a failed Write left no artifact and no
// staging directory behind.
func assertNothingPublished(t *testing.T, s *Store, key Key) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(s.Root(), key.dir())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("key directory exists after a failed Write (stat err %v)", err)
	}
	staged, err := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("reading tmp: %v", err)
	}
	if len(staged) != 0 {
		t.Errorf("staging directories left behind: %v", staged)
	}
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestWriteStoresFilesWithContentAndModes(t *testing.T) {
	s := NewStore(t.TempDir())
	src := fakeSource{
		file("README", "hello\n"),
		exe("bin/run.sh", "#!/bin/sh\necho hi\n"),
		file("apps/web/deploy.yaml", "kind: Deployment\n"),
		file("empty", ""),
	}
	st := write(t, s, testKey, "main@sha1:0123abcd", src, NewIgnore(""))

	if !digestRE.MatchString(st.Digest) {
		t.Errorf("Digest = %q, want sha256:<64 hex>", st.Digest)
	}
	wantPath := filepath.Join("artifacts", "gitrepository", "team-a", "app",
		"main-sha1-0123abcd."+strings.TrimPrefix(st.Digest, "sha256:")[:12])
	if st.Path != wantPath {
		t.Errorf("Path = %q, want %q", st.Path, wantPath)
	}
	if want := int64(len("hello\n") + len("#!/bin/sh\necho hi\n") + len("kind: Deployment\n")); st.Size != want {
		t.Errorf("Size = %d, want %d", st.Size, want)
	}
	if len(st.Skipped) != 0 {
		t.Errorf("Skipped = %v, want none", st.Skipped)
	}
	if !s.Exists(st.Path) {
		t.Errorf("Exists(%q) = false after Write", st.Path)
	}

	want := map[string]node{
		"README":               {Kind: "file", Content: "hello\n"},
		"bin/run.sh":           {Kind: "file", Exec: true, Content: "#!/bin/sh\necho hi\n"},
		"apps/web/deploy.yaml": {Kind: "file", Content: "kind: Deployment\n"},
		"empty":                {Kind: "file"},
	}
	if diff := cmp.Diff(want, readTree(t, filepath.Join(s.Root(), st.Path))); diff != "" {
		t.Errorf("stored tree (-want +got):\n%s", diff)
	}

	// Modes are never widened beyond what the entry asked for.
	for p, perm := range map[string]fs.FileMode{"README": 0o644, "bin/run.sh": 0o755} {
		fi, err := os.Stat(filepath.Join(s.Root(), st.Path, p))
		if err != nil {
			t.Fatal(err)
		}
		if extra := fi.Mode().Perm() &^ perm; extra != 0 {
			t.Errorf("%s has mode %v, more than the requested %v", p, fi.Mode().Perm(), perm)
		}
	}

	staged, err := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(staged) != 0 {
		t.Errorf("staging directories left behind: %v", staged)
	}
}

func TestWriteDigest(t *testing.T) {
	base := fakeSource{
		file("a.yaml", "a: 1\n"),
		exe("bin/tool", "#!/bin/sh\n"),
		file("dir/b.yaml", "b: 2\n"),
		link("dir/link", "b.yaml"),
	}
	cases := []struct {
		name    string
		src     fakeSource
		ig      string
		changed bool
	}{
		{name: "same entries in the same order", src: base},
		{name: "reverse walk order", src: reversed(base)},
		{name: "shuffled walk order", src: fakeSource{base[2], base[0], base[3], base[1]}},
		{name: "an ignored file does not count", src: append(slices.Clone(base), file("logo.png", "\x89PNG"))},
		{name: "an ignored directory does not count", src: append(slices.Clone(base), file("skip/x.yaml", "x")), ig: "skip/"},
		{name: "content of one file changes", src: fakeSource{file("a.yaml", "a: 2\n"), base[1], base[2], base[3]}, changed: true},
		{name: "a path changes", src: fakeSource{file("a2.yaml", "a: 1\n"), base[1], base[2], base[3]}, changed: true},
		{name: "a file moves to another directory", src: fakeSource{file("dir/a.yaml", "a: 1\n"), base[1], base[2], base[3]}, changed: true},
		{name: "executable bit removed", src: fakeSource{base[0], file("bin/tool", "#!/bin/sh\n"), base[2], base[3]}, changed: true},
		{name: "executable bit added", src: fakeSource{exe("a.yaml", "a: 1\n"), base[1], base[2], base[3]}, changed: true},
		{name: "symlink target changes", src: fakeSource{base[0], base[1], base[2], link("dir/link", "../a.yaml")}, changed: true},
		{name: "a file is added", src: append(slices.Clone(base), file("c.yaml", "")), changed: true},
		{name: "a file is removed", src: base[:3], changed: true},
	}
	ref := write(t, NewStore(t.TempDir()), testKey, "rev", base, NewIgnore(""))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := write(t, NewStore(t.TempDir()), testKey, "rev", tc.src, NewIgnore(tc.ig))
			if changed := got.Digest != ref.Digest; changed != tc.changed {
				t.Errorf("digest changed = %v, want %v (base %s, got %s)", changed, tc.changed, ref.Digest, got.Digest)
			}
			if samePath := got.Path == ref.Path; samePath == tc.changed {
				t.Errorf("Path = %q for base %q: the directory must follow the digest", got.Path, ref.Path)
			}
		})
	}
}

func TestWriteDigestOfEmptyTree(t *testing.T) {
	st := write(t, NewStore(t.TempDir()), testKey, "rev", fakeSource{}, NewIgnore(""))
	// sha256 of no input at all.
	const want = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if st.Digest != want {
		t.Errorf("Digest = %q, want %q", st.Digest, want)
	}
	if st.Size != 0 {
		t.Errorf("Size = %d, want 0", st.Size)
	}
}

func TestWriteSameRevisionAndContentReusesDirectory(t *testing.T) {
	s := NewStore(t.TempDir())
	src := fakeSource{file("a.yaml", "a"), exe("run", "x")}
	first := write(t, s, testKey, "main@sha1:abc", src, NewIgnore(""))
	marker := filepath.Join(s.Root(), first.Path, "a.yaml")
	before, err := os.Stat(marker)
	if err != nil {
		t.Fatal(err)
	}

	second := write(t, s, testKey, "main@sha1:abc", reversed(src), NewIgnore(""))
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second Write (-first +second):\n%s", diff)
	}
	after, err := os.Stat(marker)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the existing artifact was replaced; it must be reused as is")
	}
	entries, err := os.ReadDir(filepath.Join(s.Root(), testKey.dir()))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key directory holds %d artifacts, want 1", len(entries))
	}
	staged, err := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(staged) != 0 {
		t.Errorf("staging directories left behind: %v", staged)
	}

	// Another revision with the same content, or the same revision with
	// other content, gets a directory of its own.
	otherRev := write(t, s, testKey, "main@sha1:def", src, NewIgnore(""))
	otherContent := write(t, s, testKey, "main@sha1:abc", fakeSource{file("a.yaml", "b")}, NewIgnore(""))
	paths := []string{first.Path, otherRev.Path, otherContent.Path}
	if distinct := slices.Compact(slices.Sorted(slices.Values(paths))); len(distinct) != len(paths) {
		t.Errorf("paths are not distinct: %v", paths)
	}
	if otherRev.Digest != first.Digest {
		t.Errorf("same content under another revision: digest %q, want %q", otherRev.Digest, first.Digest)
	}
}

func TestWriteHonoursIgnoreRules(t *testing.T) {
	cases := []struct {
		name string
		spec string
		src  fakeSource
		want map[string]node
	}{
		{
			name: "defaults drop .git and images",
			src: fakeSource{
				file(".git/config", "[core]"),
				file("logo.png", "png"),
				file("apps/a.yaml", "a"),
			},
			want: map[string]node{"apps/a.yaml": {Kind: "file", Content: "a"}},
		},
		{
			name: "root .flotillaignore from the source",
			src: fakeSource{
				file("a.yaml", "a"),
				file("notes.md", "n"),
				file("apps/b.md", "b"),
				file(IgnoreFile, "# docs are not manifests\n*.md\n"),
			},
			want: map[string]node{
				"a.yaml":   {Kind: "file", Content: "a"},
				IgnoreFile: {Kind: "file", Content: "# docs are not manifests\n*.md\n"},
			},
		},
		{
			name: "subdirectory .flotillaignore applies only below it",
			src: fakeSource{
				file("test.yaml", "root"),
				file("apps/test.yaml", "apps"),
				file("apps/deep/test.yaml", "deep"),
				file("other/test.yaml", "other"),
				file("apps/"+IgnoreFile, "test.yaml"),
			},
			want: map[string]node{
				"test.yaml":          {Kind: "file", Content: "root"},
				"other/test.yaml":    {Kind: "file", Content: "other"},
				"apps/" + IgnoreFile: {Kind: "file", Content: "test.yaml"},
			},
		},
		{
			name: "spec negation brings back what a .flotillaignore dropped",
			spec: "!keep.txt",
			src: fakeSource{
				file("keep.txt", "k"),
				file("drop.txt", "d"),
				file(IgnoreFile, "*.txt"),
			},
			want: map[string]node{
				"keep.txt": {Kind: "file", Content: "k"},
				IgnoreFile: {Kind: "file", Content: "*.txt"},
			},
		},
		{
			name: "spec can ignore the .flotillaignore itself and its rules still apply",
			spec: IgnoreFile,
			src: fakeSource{
				file("a.yaml", "a"),
				file("b.tmp", "b"),
				file(IgnoreFile, "*.tmp"),
			},
			want: map[string]node{"a.yaml": {Kind: "file", Content: "a"}},
		},
		{
			name: "a symlink named .flotillaignore is not read as rules",
			src: fakeSource{
				file("a.yaml", "a"),
				file("rules", "*.yaml"),
				link(IgnoreFile, "rules"),
			},
			want: map[string]node{
				"a.yaml":   {Kind: "file", Content: "a"},
				"rules":    {Kind: "file", Content: "*.yaml"},
				IgnoreFile: {Kind: "link", Content: "rules"},
			},
		},
		{
			name: "ignored symlinks are neither stored nor skipped",
			spec: "links/",
			src: fakeSource{
				file("a.yaml", "a"),
				link("links/out", "/etc/passwd"),
			},
			want: map[string]node{"a.yaml": {Kind: "file", Content: "a"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			st := write(t, s, testKey, "rev", tc.src, NewIgnore(tc.spec))
			if diff := cmp.Diff(tc.want, readTree(t, filepath.Join(s.Root(), st.Path))); diff != "" {
				t.Errorf("stored tree (-want +got):\n%s", diff)
			}
			if len(st.Skipped) != 0 {
				t.Errorf("Skipped = %v, want none", st.Skipped)
			}
		})
	}
}

func TestWriteSymlinks(t *testing.T) {
	cases := []struct {
		name        string
		src         fakeSource
		wantTree    map[string]node
		wantSkipped []string
	}{
		{
			name: "links inside the tree are recreated",
			src: fakeSource{
				file("base/values.yaml", "v"),
				link("current", "base"),
				link("base/alias.yaml", "values.yaml"),
				link("apps/web/values.yaml", "../../base/values.yaml"),
				link("self", "."),
			},
			wantTree: map[string]node{
				"base/values.yaml":     {Kind: "file", Content: "v"},
				"current":              {Kind: "link", Content: "base"},
				"base/alias.yaml":      {Kind: "link", Content: "values.yaml"},
				"apps/web/values.yaml": {Kind: "link", Content: "../../base/values.yaml"},
				"self":                 {Kind: "link", Content: "."},
			},
		},
		{
			name: "links that lead nowhere are skipped",
			src: fakeSource{
				file("a.yaml", "a"),
				link("dangling", "missing.yaml"),
				link("sub/through-missing", "../gone/x.yaml"),
				link("via-dangling", "dangling"),
			},
			wantTree:    map[string]node{"a.yaml": {Kind: "file", Content: "a"}},
			wantSkipped: []string{"dangling", "sub/through-missing", "via-dangling"},
		},
		{
			name: "links escaping the tree are skipped",
			src: fakeSource{
				file("a.yaml", "a"),
				link("abs", "/etc/passwd"),
				link("up", "../outside"),
				link("parent", ".."),
				link("sub/dir/up", "../../../x"),
				link("sub/sneaky", "ok/../../../x"),
				link("sub/in", "../a.yaml"),
			},
			wantTree: map[string]node{
				"a.yaml": {Kind: "file", Content: "a"},
				"sub/in": {Kind: "link", Content: "../a.yaml"},
			},
			wantSkipped: []string{"abs", "up", "parent", "sub/dir/up", "sub/sneaky"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			st := write(t, s, testKey, "rev", tc.src, NewIgnore(""))
			if diff := cmp.Diff(tc.wantTree, readTree(t, filepath.Join(s.Root(), st.Path))); diff != "" {
				t.Errorf("stored tree (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSkipped, st.Skipped); diff != "" {
				t.Errorf("Skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteSkippedLinksDoNotChangeDigest(t *testing.T) {
	base := fakeSource{file("a.yaml", "a")}
	with := append(slices.Clone(base), link("escape", "/etc/passwd"))
	a := write(t, NewStore(t.TempDir()), testKey, "rev", base, NewIgnore(""))
	b := write(t, NewStore(t.TempDir()), testKey, "rev", with, NewIgnore(""))
	if a.Digest != b.Digest {
		t.Errorf("a skipped link changed the digest: %s vs %s", a.Digest, b.Digest)
	}
}

func TestWriteRefusesPathsOutsideTheRoot(t *testing.T) {
	cases := []struct {
		name string
		path string
	}{
		{"parent directory", "../x"},
		{"parent after a directory", "a/../../x"},
		{"absolute path", "/etc/passwd"},
		{"bare parent", ".."},
		{"empty path", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			src := fakeSource{file("ok.yaml", "ok"), file(tc.path, "evil")}
			st, err := s.Write(context.Background(), testKey, "rev", src, NewIgnore(""))
			if err == nil {
				t.Fatalf("Write with entry %q succeeded (%+v), want an error", tc.path, st)
			}
			if st != nil {
				t.Errorf("Write returned %+v along with the error", st)
			}
			if !strings.Contains(err.Error(), "refusing path") {
				t.Errorf("error %q does not say the path was refused", err)
			}
			assertNothingPublished(t, s, testKey)
		})
	}
}

func TestWriteSizeLimit(t *testing.T) {
	lie := int64(1)
	cases := []struct {
		name    string
		limit   int64
		src     fakeSource
		wantErr bool
	}{
		{name: "exactly at the limit", limit: 10, src: fakeSource{file("a", "12345"), file("b", "67890")}},
		{name: "symlinks do not count", limit: 1, src: fakeSource{file("a", "1"), link("l", "a")}},
		{name: "ignored files do not count", limit: 1, src: fakeSource{file("a", "1"), file("big.png", "0123456789")}},
		{name: "one file over the limit", limit: 10, src: fakeSource{file("a", "12345678901")}, wantErr: true},
		{name: "sum of files over the limit", limit: 10, src: fakeSource{file("a", "123456"), file("b", "12345")}, wantErr: true},
		{
			name:    "content larger than its declared size",
			limit:   10,
			src:     fakeSource{{path: "a", mode: 0o644, content: strings.Repeat("x", 64), size: &lie}},
			wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir(), WithMaxSize(tc.limit))
			st, err := s.Write(context.Background(), testKey, "rev", tc.src, NewIgnore(""))
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if st.Size > tc.limit {
					t.Errorf("Size = %d over the limit %d", st.Size, tc.limit)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Write error = %v, want one wrapping ErrTooLarge", err)
			}
			assertNothingPublished(t, s, testKey)
		})
	}
}

func TestWriteSizeLimitCheckedBeforeReading(t *testing.T) {
	// A blob whose declared size is over the limit is refused without being read.
	s := NewStore(t.TempDir(), WithMaxSize(10))
	huge := int64(1 << 40)
	opened := false
	big := fakeEntry{path: "big.yaml", mode: 0o644, content: "x", size: &huge, onOpen: func() { opened = true }}
	_, err := s.Write(context.Background(), testKey, "rev", fakeSource{big}, NewIgnore(""))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write error = %v, want one wrapping ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), "big.yaml") {
		t.Errorf("error %q does not name the file", err)
	}
	if opened {
		t.Error("the oversized entry was opened; its declared size should have been enough")
	}
	assertNothingPublished(t, s, testKey)
}

func TestNewStoreDefaults(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if s.Root() != dir {
		t.Errorf("Root() = %q, want %q", s.Root(), dir)
	}
	if s.maxSize != DefaultMaxSize {
		t.Errorf("maxSize = %d, want DefaultMaxSize %d", s.maxSize, DefaultMaxSize)
	}
	if got := NewStore(dir, WithMaxSize(7)).maxSize; got != 7 {
		t.Errorf("WithMaxSize(7): maxSize = %d", got)
	}
}

func TestWriteStopsOnCancelledContext(t *testing.T) {
	t.Run("cancelled before the call", func(t *testing.T) {
		s := NewStore(t.TempDir())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.Write(ctx, testKey, "rev", fakeSource{file("a", "a")}, NewIgnore(""))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Write error = %v, want context.Canceled", err)
		}
		assertNothingPublished(t, s, testKey)
	})
	t.Run("cancelled during the walk", func(t *testing.T) {
		s := NewStore(t.TempDir())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opened := 0
		first := file("a", "a")
		first.onOpen = func() { opened++; cancel() }
		second := file("b", "b")
		second.onOpen = func() { opened++ }
		_, err := s.Write(ctx, testKey, "rev", fakeSource{first, second}, NewIgnore(""))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Write error = %v, want context.Canceled", err)
		}
		if opened != 1 {
			t.Errorf("%d entries opened, want the walk to stop after the first", opened)
		}
		assertNothingPublished(t, s, testKey)
	})
}

func TestWritePropagatesSourceErrors(t *testing.T) {
	s := NewStore(t.TempDir())
	boom := errors.New("boom")
	src := errSource{err: boom}
	if _, err := s.Write(context.Background(), testKey, "rev", src, NewIgnore("")); !errors.Is(err, boom) {
		t.Fatalf("Write error = %v, want one wrapping the source's error", err)
	}
	assertNothingPublished(t, s, testKey)

	openErr := errors.New("cannot open")
	src2 := fakeSourceFunc(func(fn func(Entry) error) error {
		return fn(Entry{Path: "a.yaml", Mode: 0o644, Size: 1, Open: func() (io.ReadCloser, error) { return nil, openErr }})
	})
	_, err := s.Write(context.Background(), testKey, "rev", src2, NewIgnore(""))
	if !errors.Is(err, openErr) || !strings.Contains(err.Error(), "a.yaml") {
		t.Fatalf("Write error = %v, want one wrapping the open error and naming a.yaml", err)
	}
}

type errSource struct{ err error }

func (s errSource) Walk(func(Entry) error) error { return s.err }

type fakeSourceFunc func(fn func(Entry) error) error

func (f fakeSourceFunc) Walk(fn func(Entry) error) error { return f(fn) }

func TestDirName(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	long := strings.Repeat("a", 170) + "/" + strings.Repeat("b", 20)
	cases := []struct {
		name, revision, want string
	}{
		{"branch revision", "main@sha1:abc123", "main-sha1-abc123.0123456789ab"},
		{"commit revision", "sha1:abc123", "sha1-abc123.0123456789ab"},
		{"slashes and spaces collapse", "feature/x y@sha1:1", "feature-x-y-sha1-1.0123456789ab"},
		{"runs of unsafe characters become one dash", "a//:@b", "a-b.0123456789ab"},
		{"dots dashes and underscores kept", "v1.2.3_rc-1", "v1.2.3_rc-1.0123456789ab"},
		{"path traversal is neutralised", "../../etc", "..-..-etc.0123456789ab"},
		{"long revision keeps its last 180 characters", long, strings.Repeat("a", 159) + "-" + strings.Repeat("b", 20) + ".0123456789ab"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := dirName(tc.revision, digest)
			if got != tc.want {
				t.Errorf("dirName(%q) = %q, want %q", tc.revision, got, tc.want)
			}
			if strings.ContainsAny(got, `/\`) {
				t.Errorf("dirName(%q) = %q contains a separator", tc.revision, got)
			}
		})
	}
}

func TestExists(t *testing.T) {
	s := NewStore(t.TempDir())
	if err := os.MkdirAll(filepath.Join(s.Root(), "artifacts", "k", "present"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Root(), "artifacts", "k", "a-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir() // exists, but outside the store
	cases := []struct {
		name string
		rel  string
		want bool
	}{
		{"present directory", filepath.Join("artifacts", "k", "present"), true},
		{"missing directory", filepath.Join("artifacts", "k", "absent"), false},
		{"a file is not an artifact", filepath.Join("artifacts", "k", "a-file"), false},
		{"parent path", "../x", false},
		{"parent path to an existing directory", filepath.Join("..", filepath.Base(s.Root())), false},
		{"dot-dot inside the path", "artifacts/../../x", false},
		{"absolute path to an existing directory", outside, false},
		{"absolute root", "/", false},
		{"empty path", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Exists(tc.rel); got != tc.want {
				t.Errorf("Exists(%q) = %v, want %v", tc.rel, got, tc.want)
			}
		})
	}
}

// seedArtifacts writes n artifacts for key, the i-th one i hours after base,
// and returns their paths oldest first.
func seedArtifacts(t *testing.T, s *Store, key Key, n int, base time.Time) []string {
	t.Helper()
	var paths []string
	for i := range n {
		rev := "main@sha1:" + strings.Repeat(string(rune('a'+i)), 8)
		st := write(t, s, key, rev, fakeSource{file("f.yaml", rev)}, NewIgnore(""))
		mt := base.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(filepath.Join(s.Root(), st.Path), mt, mt); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, st.Path)
	}
	return paths
}

// artifactsOf lists the artifact directories of key, sorted.
func artifactsOf(t *testing.T, s *Store, key Key) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Root(), key.dir()))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Join(key.dir(), e.Name()))
	}
	return out
}

func TestGC(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	other := Key{Kind: "GitRepository", Namespace: "team-b", Name: "app"}
	cases := []struct {
		name string
		// keep is the index of the kept artifact (oldest is 0), -1 for none.
		keep        int
		wantKept    []int
		wantRemoved []int
	}{
		{name: "keeping an older one leaves it and the newest", keep: 1, wantKept: []int{1, 3}, wantRemoved: []int{0, 2}},
		{name: "keeping the oldest leaves it and the newest", keep: 0, wantKept: []int{0, 3}, wantRemoved: []int{1, 2}},
		{name: "keeping the newest leaves it and the one before", keep: 3, wantKept: []int{2, 3}, wantRemoved: []int{0, 1}},
		{name: "keeping nothing leaves only the newest", keep: -1, wantKept: []int{3}, wantRemoved: []int{0, 1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			paths := seedArtifacts(t, s, testKey, 4, base)
			otherPaths := seedArtifacts(t, s, other, 3, base)
			keep := ""
			if tc.keep >= 0 {
				keep = paths[tc.keep]
			}

			removed, err := s.GC(testKey, keep)
			if err != nil {
				t.Fatalf("GC: %v", err)
			}
			pick := func(idx []int) []string {
				var out []string
				for _, i := range idx {
					out = append(out, paths[i])
				}
				slices.Sort(out)
				return out
			}
			if diff := cmp.Diff(pick(tc.wantRemoved), slices.Sorted(slices.Values(removed))); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(pick(tc.wantKept), artifactsOf(t, s, testKey)); diff != "" {
				t.Errorf("left on disk (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(slices.Sorted(slices.Values(otherPaths)), artifactsOf(t, s, other)); diff != "" {
				t.Errorf("another key's artifacts changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGCIgnoresFilesInTheKeyDirectory(t *testing.T) {
	s := NewStore(t.TempDir())
	paths := seedArtifacts(t, s, testKey, 3, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	stray := filepath.Join(s.Root(), testKey.dir(), "stray-file")
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := s.GC(testKey, paths[0])
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if diff := cmp.Diff([]string{paths[1]}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("a plain file in the key directory was touched: %v", err)
	}
}

func TestGCOfMissingKey(t *testing.T) {
	s := NewStore(t.TempDir())
	removed, err := s.GC(Key{Kind: "GitRepository", Namespace: "nobody", Name: "nothing"}, "")
	if err != nil {
		t.Errorf("GC of a missing key: %v", err)
	}
	if len(removed) != 0 {
		t.Errorf("GC of a missing key removed %v", removed)
	}
}

func TestGCIsIdempotent(t *testing.T) {
	s := NewStore(t.TempDir())
	paths := seedArtifacts(t, s, testKey, 4, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := s.GC(testKey, paths[3]); err != nil {
		t.Fatal(err)
	}
	removed, err := s.GC(testKey, paths[3])
	if err != nil {
		t.Fatalf("second GC: %v", err)
	}
	if len(removed) != 0 {
		t.Errorf("second GC removed %v, want nothing", removed)
	}
	if diff := cmp.Diff(paths[2:], artifactsOf(t, s, testKey)); diff != "" {
		t.Errorf("left on disk (-want +got):\n%s", diff)
	}
}

func TestRemove(t *testing.T) {
	s := NewStore(t.TempDir())
	other := Key{Kind: "GitRepository", Namespace: "team-a", Name: "other"}
	write(t, s, testKey, "r1", fakeSource{file("a", "1")}, NewIgnore(""))
	write(t, s, testKey, "r2", fakeSource{file("a", "2")}, NewIgnore(""))
	kept := write(t, s, other, "r1", fakeSource{file("a", "1")}, NewIgnore(""))

	if err := s.Remove(testKey); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), testKey.dir())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("key directory still there after Remove (stat err %v)", err)
	}
	if !s.Exists(kept.Path) {
		t.Errorf("Remove of one key deleted another key's artifact %s", kept.Path)
	}
	if err := s.Remove(testKey); err != nil {
		t.Errorf("Remove of an already removed key: %v", err)
	}
}

func TestKeyDirLowercasesKind(t *testing.T) {
	got := Key{Kind: "GitRepository", Namespace: "NS", Name: "Name"}.dir()
	if want := filepath.Join("artifacts", "gitrepository", "NS", "Name"); got != want {
		t.Errorf("dir() = %q, want %q", got, want)
	}
}

func TestWriteDropsLinksThatEscapeThroughOtherLinks(t *testing.T) {
	s := NewStore(t.TempDir())
	key := Key{Kind: "GitRepository", Namespace: "ns", Name: "chain"}
	src := fakeSource{
		file("sub/a.yaml", "a: 1\n"),
		link("sub/up", ".."),          // the tree root: fine
		link("esc", "sub/up/.."),      // textually "sub", really the parent of the tree
		link("esc2", "sub/up/esc/.."), // one more level up
	}
	stored := write(t, s, key, "r1", src, nil)
	for _, escaped := range []string{"esc", "esc2"} {
		if !slices.Contains(stored.Skipped, escaped) {
			t.Errorf("%s resolves outside the tree and must be skipped; skipped = %v", escaped, stored.Skipped)
		}
		if _, err := os.Lstat(filepath.Join(s.Root(), stored.Path, escaped)); err == nil {
			t.Errorf("%s must not exist in the artifact", escaped)
		}
	}
	if _, err := os.Lstat(filepath.Join(s.Root(), stored.Path, "sub", "up")); err != nil {
		t.Errorf("a link that stays inside the tree must be kept: %v", err)
	}
}

func TestWriteCannotWriteThroughALinkOutsideTheStage(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	key := Key{Kind: "GitRepository", Namespace: "ns", Name: "through"}
	src := fakeSource{
		link("sub/up", ".."),
		link("d", "sub/up/.."),
		file("d/pwned", "hi"),
	}
	if _, err := s.Write(context.Background(), key, "r1", src, nil); err == nil {
		t.Error("writing a file through a link that leaves the tree must fail")
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp", "pwned")); err == nil {
		t.Fatal("a file was written outside the staging directory")
	}
}

func TestWriteWithNilIgnoreReadsFlotillaignore(t *testing.T) {
	s := NewStore(t.TempDir())
	key := Key{Kind: "GitRepository", Namespace: "ns", Name: "nil-ignore"}
	src := fakeSource{file(".flotillaignore", "drop.yaml\n"), file("drop.yaml", "x"), file("keep.yaml", "y")}
	stored := write(t, s, key, "r1", src, nil)
	if _, err := os.Stat(filepath.Join(s.Root(), stored.Path, "drop.yaml")); err == nil {
		t.Error("drop.yaml is ignored by .flotillaignore")
	}
	if _, err := os.Stat(filepath.Join(s.Root(), stored.Path, "keep.yaml")); err != nil {
		t.Errorf("keep.yaml must be stored: %v", err)
	}
}

func TestWriteDoesNotChangeTheCallersIgnore(t *testing.T) {
	s := NewStore(t.TempDir())
	ig := NewIgnore("")
	key := Key{Kind: "GitRepository", Namespace: "ns", Name: "clone"}
	write(t, s, key, "r1", fakeSource{file(".flotillaignore", "b.yaml\n"), file("b.yaml", "b")}, ig)
	if ig.Match("b.yaml", false) {
		t.Error("rules of one revision's .flotillaignore leaked into the caller's Ignore")
	}
}

func TestKeysMustNameOneDirectory(t *testing.T) {
	s := NewStore(t.TempDir())
	for _, k := range []Key{{}, {Kind: "GitRepository"}, {Kind: "GitRepository", Namespace: "..", Name: "x"}, {Kind: "GitRepository", Namespace: "a/b", Name: "x"}} {
		if err := s.Remove(k); err == nil {
			t.Errorf("Remove(%+v) must be refused", k)
		}
		if _, err := s.Write(context.Background(), k, "r", fakeSource{}, nil); err == nil {
			t.Errorf("Write(%+v) must be refused", k)
		}
	}
}

// FuzzWriteNeverEscapes writes trees of links and files with arbitrary
// names and targets and checks that nothing lands outside the store and no
// stored link resolves outside its artifact.
func FuzzWriteNeverEscapes(f *testing.F) {
	f.Add("sub/up", "..", "esc", "sub/up/..", "esc/file")
	f.Add("a", "/etc", "b", "a/passwd", "b/x")
	f.Add("x/y", "../..", "z", "x/y/../..", "z/w")
	f.Fuzz(func(t *testing.T, l1, t1, l2, t2, filePath string) {
		parent := t.TempDir()
		storeDir := filepath.Join(parent, "store")
		s := NewStore(storeDir)
		key := Key{Kind: "GitRepository", Namespace: "ns", Name: "fuzz"}
		src := fakeSource{link(l1, t1), link(l2, t2), file(filePath, "payload")}
		stored, err := s.Write(context.Background(), key, "r", src, nil)
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 {
			t.Fatalf("something was written beside the store: %v", entries)
		}
		if err != nil {
			return
		}
		art, _ := filepath.EvalSymlinks(filepath.Join(storeDir, stored.Path))
		filepath.WalkDir(art, func(p string, d fs.DirEntry, _ error) error {
			if d == nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			if resolved, err := filepath.EvalSymlinks(p); err == nil && !within(art, resolved) {
				t.Errorf("stored link %s resolves to %s, outside %s", p, resolved, art)
			}
			return nil
		})
	})
}

// TestIgnorePatternsBounded: a 1 MiB .flotillaignore used to become half a
// million patterns matched against every path; the write is refused
// instead, naming the file, and nothing is published.
func TestIgnorePatternsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20-16; i++ {
		fmt.Fprintf(&b, "p%d\n", i)
	}
	for _, tc := range []struct {
		name string
		src  fakeSource
		spec string
		want string
	}{
		{name: "a 1 MiB file", src: fakeSource{file("apps/"+IgnoreFile, b.String()), file("apps/a.yaml", "a")}, want: "apps/" + IgnoreFile},
		{name: "files adding up", src: fakeSource{
			file(IgnoreFile, strings.Repeat("x\n", MaxIgnorePatterns/2)),
			file("apps/"+IgnoreFile, strings.Repeat("y\n", MaxIgnorePatterns/2+1)),
		}, want: "apps/" + IgnoreFile},
		{name: "a file beside a long spec.ignore", spec: strings.Repeat("z\n", MaxIgnorePatterns), src: fakeSource{file(IgnoreFile, "one\n")}, want: IgnoreFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			_, err := s.Write(context.Background(), testKey, "rev", tc.src, NewIgnore(tc.spec))
			if !errors.Is(err, ErrTooManyPatterns) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want ErrTooManyPatterns naming %s", err, tc.want)
			}
			assertNothingPublished(t, s, testKey)
		})
	}
	t.Run("at the bound the tree is stored", func(t *testing.T) {
		s := NewStore(t.TempDir())
		src := fakeSource{file(IgnoreFile, strings.Repeat("x\n", MaxIgnorePatterns)), file("a.yaml", "a")}
		if _, err := s.Write(context.Background(), testKey, "rev", src, NewIgnore("")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestKeyHoldsOnlyItsOwnArtifacts(t *testing.T) {
	key := Key{Kind: "GitRepository", Namespace: "team-a", Name: "fleet"}
	s := NewStore(t.TempDir())
	own := write(t, s, key, "main@sha1:abc", fakeSource{file("a.yaml", "a")}, NewIgnore(""))
	other := write(t, s, Key{Kind: "GitRepository", Namespace: "team-b", Name: "secrets"}, "main@sha1:def", fakeSource{file("b.yaml", "b")}, NewIgnore(""))
	for _, tc := range []struct {
		path string
		want bool
	}{
		{own.Path, true},
		{other.Path, false},
		{filepath.Join(filepath.Dir(own.Path), "..", "..", "team-b", "secrets", filepath.Base(other.Path)), false},
		{filepath.Dir(own.Path), false},
		{filepath.Join(own.Path, "sub"), false},
		{"/" + own.Path, false},
		{"", false},
	} {
		if got := key.Holds(tc.path); got != tc.want {
			t.Errorf("Holds(%q) = %t, want %t", tc.path, got, tc.want)
		}
	}
}

// A repository of a million tiny files is refused before it fills the data
// directory with inodes; ignored files do not count (#16, item 14).
func TestWriteFileCountLimit(t *testing.T) {
	s := NewStore(t.TempDir(), WithMaxFiles(3))
	within := fakeSource{file("a", "1"), file("b", "2"), file("c", "3"), file("x.png", "4")}
	if _, err := s.Write(context.Background(), testKey, "rev", within, NewIgnore("*.png\n")); err != nil {
		t.Fatalf("three files and an ignored one: %v", err)
	}
	over := fakeSource{file("a", "1"), file("b", "2"), file("c", "3"), file("d", "4")}
	_, err := s.Write(context.Background(), testKey, "rev2", over, NewIgnore(""))
	if !errors.Is(err, ErrTooManyFiles) {
		t.Fatalf("Write error = %v, want one wrapping ErrTooManyFiles", err)
	}
	if !strings.Contains(err.Error(), "spec.ignore") || !strings.Contains(err.Error(), "3 files") {
		t.Errorf("error %q must give the limit and the way out", err)
	}
	if got := NewStore(t.TempDir()).maxFiles; got != DefaultMaxFiles {
		t.Errorf("default maxFiles = %d, want %d", got, DefaultMaxFiles)
	}
}
