package tagstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRevisionIsStableAndDistinguishesLists(t *testing.T) {
	empty := "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256 of no bytes
	if got := Revision(nil); got != empty {
		t.Errorf("Revision(nil) = %s, want %s", got, empty)
	}
	if Revision([]string{}) != Revision(nil) {
		t.Error("an empty list and nil differ")
	}
	// Tags cannot hold a newline (OCI: [A-Za-z0-9_][A-Za-z0-9._-]*), so
	// the newline separator keeps lists apart.
	distinct := [][]string{
		{"a"},
		{"a", "b"},
		{"ab"},
		{"a", "a"},
		{""},
	}
	seen := map[string][]string{}
	for _, tags := range distinct {
		r := Revision(tags)
		if !strings.HasPrefix(r, "sha256:") || len(r) != len("sha256:")+64 {
			t.Errorf("Revision(%q) = %q is not sha256:<hex>", tags, r)
		}
		if prev, ok := seen[r]; ok {
			t.Errorf("Revision(%q) = Revision(%q)", tags, prev)
		}
		seen[r] = tags
	}
	in := []string{"b", "a", "c"}
	_ = Revision(in)
	if diff := cmp.Diff([]string{"b", "a", "c"}, in); diff != "" {
		t.Errorf("Revision sorted its argument (-want +got):\n%s", diff)
	}
}

func TestWriteDoesNotSortTheCallersSlice(t *testing.T) {
	s := New(t.TempDir())
	in := []string{"v2", "v1"}
	scan, err := s.Write(Key{Namespace: "a", Name: "b", UID: "u"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v2", "v1"}, in); diff != "" {
		t.Errorf("the caller's slice changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Scan{Revision: Revision(in), Tags: []string{"v1", "v2"}}, scan); diff != "" {
		t.Errorf("scan (-want +got):\n%s", diff)
	}
}

func TestStoredFileLayoutAndMode(t *testing.T) {
	root := t.TempDir()
	k := Key{Namespace: "apps", Name: "podinfo", UID: "1234-abcd"}
	if _, err := New(root).Write(k, []string{"1.0.0"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "apps", "podinfo", "1234-abcd.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the scan is not at namespace/name/uid.json: %v", err)
	}
	want := `{"revision":"` + Revision([]string{"1.0.0"}) + `","tags":["1.0.0"]}`
	if string(data) != want {
		t.Errorf("file = %s, want %s", data, want)
	}
	entries, err := os.ReadDir(filepath.Join(root, "apps", "podinfo"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("entries = %v, want only the scan (no temporary file left)", entries)
	}
	fi, err := os.Stat(filepath.Join(root, "apps", "podinfo"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700: tags of private images are not for other users", fi.Mode().Perm())
	}
}

func TestReadFromDiskFailures(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not JSON", "{", "the stored file is damaged"},
		{"revision of other tags", `{"revision":"` + Revision([]string{"a"}) + `","tags":["b"]}`, "the stored file is damaged"},
		{"no revision", `{"tags":["a"]}`, "the stored file is damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			k := Key{Namespace: "apps", Name: "app", UID: "u"}
			if err := os.MkdirAll(filepath.Join(root, k.dir()), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, k.file()), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(root).Read(k)
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "apps/app (uid u)") {
				t.Fatalf("error = %v, want ErrNotFound naming the object and %q", err, tt.want)
			}
		})
	}
}

func TestReadMissingNamesTheObject(t *testing.T) {
	_, err := New(t.TempDir()).Read(Key{Namespace: "apps", Name: "app", UID: "u1"})
	if !errors.Is(err, ErrNotFound) || err.Error() != "no tags stored for ImageRepository apps/app (uid u1)" {
		t.Fatalf("error = %v", err)
	}
}

func TestReadErrorOtherThanMissing(t *testing.T) {
	root := t.TempDir()
	k := Key{Namespace: "apps", Name: "app", UID: "u"}
	// a directory where the file should be: reading it fails, and that is
	// not "no tags stored".
	if err := os.MkdirAll(filepath.Join(root, k.file()), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := New(root).Read(k)
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "reading the tags of apps/app (uid u)") {
		t.Fatalf("error = %v", err)
	}
}

func TestWriteFailureNamesTheObject(t *testing.T) {
	root := t.TempDir()
	blocker := filepath.Join(root, "apps")
	if err := os.WriteFile(blocker, []byte("a file, not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(root).Write(Key{Namespace: "apps", Name: "app", UID: "u"}, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "storing the tags of apps/app (uid u)") {
		t.Fatalf("error = %v", err)
	}
}

func TestReadIsServedFromMemoryAfterWrite(t *testing.T) {
	root := t.TempDir()
	s := New(root)
	k := Key{Namespace: "apps", Name: "app", UID: "u"}
	if _, err := s.Write(k, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, k.file())); err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(k)
	if err != nil {
		t.Fatalf("read after the file went: %v", err)
	}
	if diff := cmp.Diff([]string{"a"}, got.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

func TestRemoveLeavesOtherObjects(t *testing.T) {
	root := t.TempDir()
	s := New(root)
	gone := Key{Namespace: "apps", Name: "app", UID: "u"}
	sameNameElsewhere := Key{Namespace: "team", Name: "app", UID: "u"}
	sibling := Key{Namespace: "apps", Name: "app2", UID: "v"}
	for _, k := range []Key{gone, sameNameElsewhere, sibling} {
		if _, err := s.Write(k, []string{k.Name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(gone); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed object read: %v", err)
	}
	for _, k := range []Key{sameNameElsewhere, sibling} {
		if _, err := New(root).Read(k); err != nil {
			t.Errorf("%s went with the removed object: %v", k, err)
		}
	}
	if err := s.Remove(gone); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if err := s.Remove(Key{Namespace: "apps", Name: "..", UID: "u"}); err == nil {
		t.Error("Remove accepted a key leaving the root")
	}
}

func TestKeyValidation(t *testing.T) {
	tests := []struct {
		key Key
		ok  bool
	}{
		{Key{"apps", "app", "0f1e-2d3c"}, true},
		{Key{"", "app", "u"}, false},
		{Key{"apps", "", "u"}, false},
		{Key{"apps", ".", "u"}, false},
		{Key{"apps", "a\\b", "u"}, false},
		{Key{"/abs", "app", "u"}, false},
		{Key{"apps", "app", "u/../../x"}, false},
	}
	for _, tt := range tests {
		err := tt.key.validate()
		if (err == nil) != tt.ok {
			t.Errorf("validate(%s) = %v, want ok %v", tt.key, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "must be single path elements") {
			t.Errorf("error %q does not say what a key must be", err)
		}
		if _, rerr := New(t.TempDir()).Read(tt.key); !tt.ok && (rerr == nil || errors.Is(rerr, ErrNotFound)) {
			t.Errorf("Read(%s) = %v, want the key refused", tt.key, rerr)
		}
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	s := New(t.TempDir())
	keys := []Key{{"a", "x", "1"}, {"a", "x", "2"}, {"b", "y", "1"}}
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[i%len(keys)]
			if _, err := s.Write(k, []string{k.Name, k.Namespace}); err != nil {
				errs <- err
			}
			if _, err := s.Read(k); err != nil && !errors.Is(err, ErrNotFound) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Read(Key{"b", "y", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "y"}, got.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}
