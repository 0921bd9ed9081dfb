package dashboard

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet"
	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// headOf returns the hash of a branch of the repository at dir.
func headOf(t *testing.T, dir, branch string) string {
	t.Helper()
	g, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := g.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

// fleetRepo makes a fleet repository of two clusters with three commits on
// main and a branch "wide" that changes every cluster; it returns the
// directory and the hashes of main's commits, oldest first.
func fleetRepo(t *testing.T) (string, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fleet")
	files := fleettest.Files(fleettest.Options{Clusters: 2, Objects: 40})
	if err := fleettest.InitRepo(dir, files); err != nil {
		t.Fatal(err)
	}
	hashes := []string{headOf(t, dir, "main")}
	for _, msg := range []string{"docs: a readme\n\nwith a body", "docs: another line"} {
		if err := fleettest.Commit(dir, map[string]string{"README.md": msg}, msg); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, headOf(t, dir, "main"))
	}
	if err := fleettest.Git(dir, "checkout", "-q", "-b", "wide"); err != nil {
		t.Fatal(err)
	}
	changed := map[string]string{fleettest.SharedConfigMap: strings.Replace(files[fleettest.SharedConfigMap], `value: "value-12"`, `value: "value-changed"`, 1)}
	if err := fleettest.Commit(dir, changed, "platform: change the shared config"); err != nil {
		t.Fatal(err)
	}
	if err := fleettest.Git(dir, "checkout", "-q", "main"); err != nil {
		t.Fatal(err)
	}
	return dir, hashes
}

func TestBehindCountsCommitsToTheBranchHead(t *testing.T) {
	dir, hashes := fleetRepo(t)
	bare := filepath.Join(t.TempDir(), "fleet.git")
	if err := fleettest.Git(filepath.Dir(bare), "clone", "-q", "--bare", dir, bare); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"clone": dir, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			r, err := openRepo(path)
			if err != nil {
				t.Fatal(err)
			}
			info := r.info()
			if diff := cmp.Diff(&Repo{Branch: "main", Head: hashes[2], Branches: []string{"wide"}}, info); diff != "" {
				t.Errorf("repo (-want +got):\n%s", diff)
			}
			for _, tc := range []struct {
				rev  string
				want int
			}{
				{"main@sha1:" + hashes[2], 0},
				{"main@sha1:" + hashes[1], 1},
				{"main@sha1:" + hashes[0], 2},
				{"sha1:" + hashes[0], 2},
				{hashes[0], 2},
				{"main@sha1:" + "3333333333333333333333333333333333333333", -1},
				{"main@sha1:short", -1},
				{"", -1},
			} {
				if got := r.behind(tc.rev); got != tc.want {
					t.Errorf("behind(%q) = %d, want %d", tc.rev, got, tc.want)
				}
			}
			c := r.commit("main@sha1:" + hashes[1])
			if c == nil || c.Hash != hashes[1] || c.Author != "Fleet Test" || c.Message != "docs: a readme\n\nwith a body" {
				t.Errorf("commit = %+v", c)
			}
			if c != nil && subject(c.Message) != "docs: a readme" {
				t.Errorf("subject = %q", subject(c.Message))
			}
		})
	}
}

func TestRepoRefreshSeesANewHead(t *testing.T) {
	dir, hashes := fleetRepo(t)
	r, err := openRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if moved, err := r.refresh(); moved || err != nil {
		t.Fatalf("refresh without a commit: moved %t, %v", moved, err)
	}
	if err := fleettest.Commit(dir, map[string]string{"NOTES.md": "x"}, "notes"); err != nil {
		t.Fatal(err)
	}
	if moved, err := r.refresh(); !moved || err != nil {
		t.Fatalf("refresh after a commit: moved %t, %v", moved, err)
	}
	if got := r.behind("main@sha1:" + hashes[2]); got != 1 {
		t.Errorf("behind the old head after a commit = %d, want 1", got)
	}
}

func TestServerBehindWithoutRepo(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rev, src string
		want     int
	}{
		{revOld, revOld, 0},
		{revOld, revNew, -1},
		{"", "", -1},
	} {
		if got := s.behind(tc.rev, tc.src); got != tc.want {
			t.Errorf("behind(%q, %q) = %d, want %d", tc.rev, tc.src, got, tc.want)
		}
	}
}

func TestPlanOfABranch(t *testing.T) {
	dir, _ := fleetRepo(t)
	bare := filepath.Join(t.TempDir(), "fleet.git")
	if err := fleettest.Git(filepath.Dir(bare), "clone", "-q", "--bare", dir, bare); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"clone": dir, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			_, ts := startServer(t, Options{Repo: path})
			var p struct {
				Base, Head string
				Result     fleet.Result
				Error      string
			}
			getJSON(t, ts.Client(), ts.URL+"/api/plan?head=wide", http.StatusOK, &p)
			changed, _, failed := p.Result.Count()
			if p.Error != "" || changed != 2 || failed != 0 || p.Head != "wide" || p.Base == "" {
				t.Errorf("plan of wide: base %q head %q, %d changed, %d failed, error %q: want both clusters changed", p.Base, p.Head, changed, failed, p.Error)
			}
			getJSON(t, ts.Client(), ts.URL+"/api/plan?head=wide&base=wide", http.StatusOK, &p)
			if changed, _, _ := p.Result.Count(); changed != 0 {
				t.Errorf("plan of wide against itself: %d changed, want 0", changed)
			}
			var e Plan
			getJSON(t, ts.Client(), ts.URL+"/api/plan?head=nope", http.StatusUnprocessableEntity, &e)
			if e.Error == "" {
				t.Error("plan of a missing branch has no error")
			}
		})
	}
	t.Run("without --repo", func(t *testing.T) {
		_, ts := startServer(t, Options{})
		var e apiError
		getJSON(t, ts.Client(), ts.URL+"/api/plan?head=wide", http.StatusBadRequest, &e)
		if !strings.Contains(e.Error, "--repo") {
			t.Errorf("error = %q: want it to say to pass --repo", e.Error)
		}
	})
}
