package fleet

import (
	"path/filepath"
	"testing"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

func TestOpenBarePlansCommitsOnly(t *testing.T) {
	files := exampleFleet(t)
	dir := repoWith(t, files, map[string]string{"README.md": "a change outside the clusters"})
	bare := filepath.Join(t.TempDir(), "fleet.git")
	if err := fleettest.Git(filepath.Dir(bare), "clone", "-q", "--bare", dir, bare); err != nil {
		t.Fatal(err)
	}
	r, err := OpenBare(bare)
	if err != nil {
		t.Fatal(err)
	}
	b, h, _, _, err := Snapshots(r, "HEAD~1", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Clusters()) == 0 || len(b.Clusters()) != len(h.Clusters()) {
		t.Errorf("clusters at HEAD~1 %v and HEAD %v: want the example fleet's at both", b.Clusters(), h.Clusters())
	}
	if _, err := r.WorktreeSnapshot(); err == nil {
		t.Error("a bare repository gave a working tree snapshot")
	}
	if _, err := OpenBare(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("OpenBare of a missing directory did not fail")
	}
}
