package tagstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteThenReadSurvivesANewStore(t *testing.T) {
	root := t.TempDir()
	k := Key{Namespace: "apps", Name: "podinfo", UID: "u1"}
	written, err := New(root).Write(k, []string{"v2", "v1", "v10"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := New(root).Read(k) // a restarted agent
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(written, got); diff != "" {
		t.Fatalf("read after restart (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"v1", "v10", "v2"}, got.Tags); diff != "" {
		t.Fatalf("tags not sorted (-want +got):\n%s", diff)
	}
	if got.Revision != Revision([]string{"v10", "v2", "v1"}) {
		t.Fatal("the revision depends on the order of the tags")
	}
}

func TestObjectsNeverShareTags(t *testing.T) {
	s := New(t.TempDir())
	old := Key{Namespace: "apps", Name: "app", UID: "old"}
	recreated := Key{Namespace: "apps", Name: "app", UID: "new"}
	other := Key{Namespace: "team-b", Name: "app", UID: "old"}
	if _, err := s.Write(old, []string{"private-1"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{recreated, other} {
		if _, err := s.Read(k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s read another object's tags: %v", k, err)
		}
	}
	if _, err := s.Write(recreated, []string{"public-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(s.root).Read(old); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the scan of the deleted object is still on disk: %v", err)
	}
}

func TestRemoveAndDamagedFiles(t *testing.T) {
	root := t.TempDir()
	s := New(root)
	k := Key{Namespace: "apps", Name: "app", UID: "u"}
	if _, err := s.Write(k, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, k.file()), []byte(`{"revision":"sha256:00","tags":["x"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(root).Read(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("damaged file: %v", err)
	}
	if err := s.Remove(k); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Remove: %v", err)
	}
}

func TestKeysThatWouldLeaveTheRootAreRefused(t *testing.T) {
	s := New(t.TempDir())
	for _, k := range []Key{{"..", "x", "u"}, {"a", "b/c", "u"}, {"a", "b", ""}, {"a", "b", "../u"}} {
		if _, err := s.Write(k, nil); err == nil {
			t.Errorf("Write(%s) accepted", k)
		}
	}
}
