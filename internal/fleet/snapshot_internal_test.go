package fleet

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// TestMaterializeStaysInItsDirectory: a repository whose tree holds a
// link "a" and a file "a/evil" (a duplicate tree entry; on a
// case-insensitive file system "A" and "a/evil" are enough) must not make
// plan write through the link.
func TestMaterializeStaysInItsDirectory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target func(victim string) string
	}{
		{name: "absolute link", target: func(victim string) string { return victim }},
		{name: "relative link", target: func(string) string { return "../victim" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			victim := filepath.Join(parent, "victim")
			dir := filepath.Join(parent, "snapshot")
			for _, d := range []string{victim, dir} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			s := newSnapshot("evil")
			s.add("a", filemode.Symlink, plumbing.ZeroHash, []byte(tc.target(victim)))
			s.add("a/evil", filemode.Regular, plumbing.ZeroHash, []byte("written outside"))
			s.index()
			err := s.materialize(context.Background(), dir, s.paths)
			if err == nil {
				t.Errorf("materialize wrote a file below a link that leaves its directory")
			}
			if _, statErr := os.Stat(filepath.Join(victim, "evil")); !os.IsNotExist(statErr) {
				t.Fatalf("a file was written outside the snapshot's directory (stat: %v)", statErr)
			}
		})
	}
}
