package dashboard

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// gitRepo runs each git command (arguments split on spaces) in a new
// directory and returns it.
func gitRepo(t *testing.T, commands ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, commands...)
	return dir
}

// runGit runs each git command (arguments split on spaces) in dir.
func runGit(t *testing.T, dir string, commands ...string) {
	t.Helper()
	for _, c := range commands {
		if err := fleettest.Git(dir, strings.Fields(c)...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDefaultBranch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		commands []string
		bare     bool
		want     string
		branches []string
	}{{
		name:     "master when there is no main",
		commands: []string{"init -q -b master", "commit -q --allow-empty -m one", "branch feature"},
		want:     "master", branches: []string{"feature"},
	}, {
		name:     "main before master",
		commands: []string{"init -q -b master", "commit -q --allow-empty -m one", "branch main"},
		want:     "main", branches: []string{"master"},
	}, {
		name:     "a bare repository's HEAD, whatever its name",
		commands: []string{"init -q -b trunk", "commit -q --allow-empty -m one", "branch main"},
		bare:     true,
		want:     "trunk", branches: []string{"main"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := gitRepo(t, tc.commands...)
			if tc.bare {
				bare := filepath.Join(t.TempDir(), "repo.git")
				runGit(t, filepath.Dir(bare), "clone -q --bare "+dir+" "+bare)
				dir = bare
			}
			r, err := openRepo(dir)
			if err != nil {
				t.Fatal(err)
			}
			info := r.info()
			if info.Branch != tc.want || len(info.Head) != 40 {
				t.Errorf("default branch %q at %q, want %q at a full hash", info.Branch, info.Head, tc.want)
			}
			if diff := cmp.Diff(tc.branches, info.Branches); diff != "" {
				t.Errorf("branches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultBranchOfACloneIsOriginsHEAD(t *testing.T) {
	upstream := gitRepo(t, "init -q -b trunk", "commit -q --allow-empty -m one", "branch feature")
	clone := filepath.Join(t.TempDir(), "clone")
	runGit(t, filepath.Dir(clone), "clone -q "+upstream+" "+clone)
	r, err := openRepo(clone)
	if err != nil {
		t.Fatal(err)
	}
	info := r.info()
	if info.Branch != "origin/trunk" || !slices.Contains(info.Branches, "origin/feature") ||
		slices.Contains(info.Branches, "origin/HEAD") || slices.Contains(info.Branches, "origin/trunk") {
		t.Errorf("clone: default %q, branches %v; want origin/trunk, with origin/feature among the others and neither origin/HEAD nor the default", info.Branch, info.Branches)
	}
}

func TestRepositoryWithoutADefaultBranchIsRefused(t *testing.T) {
	dir := gitRepo(t, "init -q -b dev", "commit -q --allow-empty -m one")
	_, err := openRepo(dir)
	if want := "the fleet repository " + dir + " has no default branch (origin/HEAD, main or master)"; err == nil || err.Error() != want {
		t.Errorf("openRepo = %v, want %q", err, want)
	}
}

func TestOpenRepoFindsTheRepositoryAbove(t *testing.T) {
	dir := gitRepo(t, "init -q -b main", "commit -q --allow-empty -m one")
	sub := filepath.Join(dir, "clusters", "prod")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := openRepo(sub)
	if err != nil || r.bare || r.info().Branch != "main" {
		t.Errorf("openRepo of a directory inside a clone = %+v, %v; want the clone's main", r, err)
	}
}

func TestRevisionHash(t *testing.T) {
	const h = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		rev  string
		want string
	}{
		{"main@sha1:" + h, h},
		{"sha1:" + h, h},
		{h, h},
		{"refs/heads/main@sha1:" + h, h},
		{"main@sha1:" + strings.ToUpper(h), h},
		{"main@sha1:" + h[:39], ""},
		{"main@sha1:" + h + "0", ""},
		{"main@sha1:" + strings.Replace(h, "a", "g", 1), ""},
		{"main@sha256:" + h + h[:24], ""},
		{"main", ""},
		{"", ""},
	} {
		got, ok := revisionHash(tc.rev)
		if tc.want == "" {
			if ok {
				t.Errorf("revisionHash(%q) = %s, want none", tc.rev, got)
			}
			continue
		}
		if !ok || got != plumbing.NewHash(tc.want) {
			t.Errorf("revisionHash(%q) = %s %t, want %s", tc.rev, got, ok, tc.want)
		}
	}
}

func TestSubject(t *testing.T) {
	for in, want := range map[string]string{
		"deploy: bump web\n\nwith a body": "deploy: bump web",
		"  padded subject  \nbody":        "padded subject",
		"one line":                        "one line",
		"":                                "",
		"\nbody after an empty subject":   "",
	} {
		if got := subject(in); got != want {
			t.Errorf("subject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommitOfARevisionTheCloneLacksIsNil(t *testing.T) {
	dir := gitRepo(t, "init -q -b main", "commit -q --allow-empty -m one")
	r, err := openRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, rev := range []string{"main@sha1:3333333333333333333333333333333333333333", "main@sha1:short", ""} {
		if c := r.commit(rev); c != nil {
			t.Errorf("commit(%q) = %+v, want nil", rev, c)
		}
	}
	c := r.commit(r.info().Head)
	want := &Commit{Hash: r.info().Head, Author: "Fleet Test", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Message: "one"}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("commit of the head (-want +got):\n%s", diff)
	}
}

func TestRepoInfoIsACopy(t *testing.T) {
	dir := gitRepo(t, "init -q -b main", "commit -q --allow-empty -m one", "branch a", "branch b")
	r, err := openRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.info().Branches[0] = "changed"
	if got := r.info().Branches; !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("branches after changing a copy = %v, want [a b]", got)
	}
}

func TestImageUpdateRowCarriesTheCommitSubject(t *testing.T) {
	dir := gitRepo(t, "init -q -b main", "commit -q --allow-empty -m image:_bump_web_to_1.2.0")
	s, err := New(Options{Repo: dir})
	if err != nil {
		t.Fatal(err)
	}
	u := &v1alpha1.ImageUpdate{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "bump"}}
	u.Status.LastPushCommit = s.repo.info().Head
	u.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: "True", Message: "pushed"}}
	got := s.imageUpdateRow("prod", u)
	want := ImageUpdateRow{Cluster: "prod", Namespace: "apps", Name: "bump", Ready: "True", Message: "pushed", LastCommit: u.Status.LastPushCommit, CommitMessage: "image:_bump_web_to_1.2.0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	u.Status.LastPushCommit = "3333333333333333333333333333333333333333"
	if got := s.imageUpdateRow("prod", u); got.CommitMessage != "" {
		t.Errorf("a commit the clone lacks has the subject %q", got.CommitMessage)
	}
}

func TestPlanOfABranchWithoutACommonAncestorAsksForABase(t *testing.T) {
	dir := gitRepo(t, "init -q -b main", "commit -q --allow-empty -m one", "checkout -q --orphan island", "commit -q --allow-empty -m two", "checkout -q main")
	_, ts := newOfflineServer(t, Options{Repo: dir})
	var p Plan
	getJSON(t, ts.Client(), ts.URL+"/api/plan?head=island", http.StatusUnprocessableEntity, &p)
	if want := "island and main have no common ancestor: pass base"; p.Error != want || p.Head != "island" || p.Base != "" || p.Result != nil {
		t.Errorf("plan of an orphan branch: %+v; want the error %q", p, want)
	}
}
