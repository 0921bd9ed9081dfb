package ledger_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
)

// LocalNotes reads what `git notes --ref=flotilla` wrote in a checkout,
// from any directory inside it.
func TestLocalNotesReadsTheNotesOfACheckout(t *testing.T) {
	f := newFleet(t)
	if got, err := ledger.LocalNotes(f.wd.Dir()); err != nil || len(got) != 0 || got == nil {
		t.Fatalf("LocalNotes before any note = %v, %v; want an empty map", got, err)
	}

	f.wd.Git(t, "notes", "--ref=flotilla", "add", "-m", "promoted by hand", f.commit)
	f.wd.WriteFile(t, "apps/podinfo.yaml", "kind: Deployment\nspec: {}\n")
	second := f.wd.Commit(t, "podinfo v1.2.0")
	f.wd.Git(t, "notes", "--ref=flotilla", "add", "-m", "rolled back", second)
	f.wd.Git(t, "notes", "--ref=commits", "add", "-m", "a note on another ref", second)

	got, err := ledger.LocalNotes(filepath.Join(f.wd.Dir(), "apps"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{f.commit: "promoted by hand\n", second: "rolled back\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LocalNotes (-want +got):\n%s", diff)
	}
}

func TestLocalNotesOutsideARepositoryNamesThePath(t *testing.T) {
	dir := t.TempDir()
	_, err := ledger.LocalNotes(dir)
	if err == nil || !strings.Contains(err.Error(), "opening the repository at "+dir) {
		t.Errorf("LocalNotes(%s) = %v, want an error naming the path", dir, err)
	}
}

// The notes commits carry the author WithAuthor sets, and the subject
// Append is given.
func TestAppendCommitsAsTheAuthorGiven(t *testing.T) {
	f := newFleet(t)
	s := ledger.NewStore(ledger.WithAuthor("Fleet Ledger", "ledger@fleet.example"))
	l := lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseSucceeded, 0, "promoted"))
	if err := s.Append(context.Background(), f.remote(), f.commit, "canary apps/podinfo: Succeeded", l); err != nil {
		t.Fatal(err)
	}
	f.wd.Git(t, "fetch", "-q", "origin", "+refs/notes/flotilla:refs/notes/flotilla")
	if got := f.wd.Git(t, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", "refs/notes/flotilla"); got != "Fleet Ledger <ledger@fleet.example>|Fleet Ledger <ledger@fleet.example>|canary apps/podinfo: Succeeded" {
		t.Errorf("notes commit = %q", got)
	}
	notes, err := ledger.LocalNotes(f.wd.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{f.commit: l[0] + "\n"}, notes); diff != "" {
		t.Errorf("notes read back from the checkout (-want +got):\n%s", diff)
	}
}

func TestAppendRefusesWhatIsNotAFullCommitHash(t *testing.T) {
	f := newFleet(t)
	for _, commit := range []string{"", f.commit[:12], strings.ToUpper(f.commit), "main"} {
		err := ledger.NewStore().Append(context.Background(), f.remote(), commit, "ledger", []string{"line"})
		if want := `commit "` + commit + `" is not a full hex SHA-1`; err == nil || err.Error() != want {
			t.Errorf("Append(%q) = %v, want %q", commit, err, want)
		}
	}
	if out := f.wd.Git(t, "ls-remote", "origin", "refs/notes/flotilla"); out != "" {
		t.Errorf("a refused Append pushed notes: %q", out)
	}
}
