package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// oneCluster is the smallest fleet: a cluster with one ConfigMap.
var oneCluster = map[string]string{
	"clusters/prod/kustomization.yaml": "resources:\n- config.yaml\n",
	"clusters/prod/config.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n",
}

// initOn makes a repository whose first branch is branch, with files committed.
func initOn(t *testing.T, branch string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := fleettest.Git(dir, "init", "-q", "-b", branch); err != nil {
		t.Fatal(err)
	}
	if err := fleettest.Commit(dir, files, "first"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openRepo(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDefaultBranch(t *testing.T) {
	trunk := initOn(t, "trunk", oneCluster)
	clone := filepath.Join(t.TempDir(), "clone")
	if err := fleettest.Git(filepath.Dir(clone), "clone", "-q", trunk, clone); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want, wantErr string
	}{
		{"main", initOn(t, "main", oneCluster), "main", ""},
		{"master when there is no main", initOn(t, "master", oneCluster), "master", ""},
		{"origin/HEAD names it in a clone", clone, "origin/trunk", ""},
		{"none of them", trunk, "", "no default branch found (origin/HEAD, main or master): pass --base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := openRepo(t, tc.dir).DefaultBranch()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("DefaultBranch = %q, %v; want the error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("DefaultBranch = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDefaultBaseWithoutACommonAncestor(t *testing.T) {
	dir := initOn(t, "main", oneCluster)
	if err := fleettest.Git(dir, "checkout", "-q", "--orphan", "unrelated"); err != nil {
		t.Fatal(err)
	}
	if err := fleettest.Commit(dir, map[string]string{"clusters/prod/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n"}, "unrelated history"); err != nil {
		t.Fatal(err)
	}
	_, _, err := openRepo(t, dir).DefaultBase()
	if err == nil || err.Error() != "HEAD and main have no common ancestor: pass --base" {
		t.Fatalf("err = %v, want the one asking for --base", err)
	}
	if _, _, _, _, err := Snapshots(openRepo(t, dir), "", WorkingTree); err == nil {
		t.Error("Snapshots with the default base of unrelated histories did not fail")
	}
}

func TestSnapshotsOfNamedRevisions(t *testing.T) {
	dir := initOn(t, "main", oneCluster)
	if err := fleettest.Commit(dir, map[string]string{"clusters/dev/kustomization.yaml": "resources: []\n"}, "a second cluster"); err != nil {
		t.Fatal(err)
	}
	if err := fleettest.Git(dir, "tag", "v1", "HEAD~1"); err != nil {
		t.Fatal(err)
	}
	r := openRepo(t, dir)
	b, h, br, hr, err := Snapshots(r, "v1", "main")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.Resolve("v1")
	second, _ := r.Resolve("main")
	want := []Revision{{Name: first.Hash.String()[:7], Description: "v1"}, {Name: second.Hash.String()[:7], Description: "main"}}
	if diff := cmp.Diff(want, []Revision{br, hr}); diff != "" {
		t.Errorf("revisions (-want +got):\n%s", diff)
	}
	if b.Name != br.Name || h.Name != hr.Name {
		t.Errorf("snapshot names %q, %q; want the revisions' %q, %q", b.Name, h.Name, br.Name, hr.Name)
	}
	if diff := cmp.Diff([][]string{{"prod"}, {"dev", "prod"}}, [][]string{b.Clusters(), h.Clusters()}); diff != "" {
		t.Errorf("clusters at base and head (-want +got):\n%s", diff)
	}
}

func TestSnapshotsNameTheRevisionTheyCannotResolve(t *testing.T) {
	r := openRepo(t, initOn(t, "main", oneCluster))
	for _, tc := range []struct{ name, base, head string }{
		{"base", "no-such-branch", "HEAD"},
		{"head", "HEAD", "no-such-branch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, _, err := Snapshots(r, tc.base, tc.head)
			if err == nil || !strings.Contains(err.Error(), `revision "no-such-branch"`) || !strings.Contains(err.Error(), "name a branch, tag or commit") {
				t.Fatalf("err = %v, want one naming the revision and what to pass", err)
			}
		})
	}
}

func TestOpenRepoOfASubdirectory(t *testing.T) {
	files := map[string]string{"README.md": "the repository\n"}
	for p, c := range oneCluster {
		files["deploy/fleet/"+p] = c
	}
	top := initOn(t, "main", files)
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	sub := filepath.Join(top, "deploy", "fleet")
	r := openRepo(t, sub)
	if r.Dir() != sub {
		t.Errorf("Dir = %q, want %q", r.Dir(), sub)
	}
	got, err := TopLevel(sub)
	if err != nil || got != top {
		t.Errorf("TopLevel = %q, %v; want %q", got, err, top)
	}
	head, _ := r.Resolve("HEAD")
	s, err := r.CommitSnapshot(head)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"clusters/prod/config.yaml", "clusters/prod/kustomization.yaml"}, s.paths); diff != "" {
		t.Errorf("the snapshot holds the fleet directory only, relative to it (-want +got):\n%s", diff)
	}
}

func TestOpenRepoOutsideAnyRepository(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenRepo(dir)
	if err == nil || !strings.Contains(err.Error(), "opening the Git repository of "+dir) || !strings.Contains(err.Error(), "--repo") {
		t.Fatalf("err = %v, want one naming %s and --repo", err, dir)
	}
	if _, err := TopLevel(dir); err == nil {
		t.Error("TopLevel outside a repository did not fail")
	}
}

func TestCommitSnapshotOfACommitWithoutTheFleetDirectory(t *testing.T) {
	top := initOn(t, "main", map[string]string{"README.md": "before the fleet\n"})
	files := map[string]string{}
	for p, c := range oneCluster {
		files["fleet/"+p] = c
	}
	if err := fleettest.Commit(top, files, "the fleet"); err != nil {
		t.Fatal(err)
	}
	r := openRepo(t, filepath.Join(top, "fleet"))
	first, err := r.Resolve("HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.CommitSnapshot(first)
	if err == nil || !strings.Contains(err.Error(), "commit "+first.Hash.String()[:7]+" has no directory fleet") {
		t.Fatalf("err = %v, want one naming the commit and the directory", err)
	}
}

func TestCommitSnapshotKeepsModesAndSkipsSubmodules(t *testing.T) {
	dir := initOn(t, "main", oneCluster)
	script := filepath.Join(dir, "clusters", "prod", "hook.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("config.yaml", filepath.Join(dir, "clusters", "prod", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	// A gitlink (a submodule's commit) has no content in this repository.
	gitlink := "160000,0123456789abcdef0123456789abcdef01234567,clusters/prod/vendor"
	if err := fleettest.Git(dir, "update-index", "--add", "--cacheinfo", gitlink); err != nil {
		t.Fatal(err)
	}
	if err := fleettest.Commit(dir, nil, "modes"); err != nil {
		t.Fatal(err)
	}
	r := openRepo(t, dir)
	head, _ := r.Resolve("HEAD")
	s, err := r.CommitSnapshot(head)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]filemode.FileMode{}
	for p, e := range s.files {
		modes[p] = e.mode
	}
	want := map[string]filemode.FileMode{
		"clusters/prod/config.yaml":        filemode.Regular,
		"clusters/prod/kustomization.yaml": filemode.Regular,
		"clusters/prod/hook.sh":            filemode.Executable,
		"clusters/prod/link.yaml":          filemode.Symlink,
	}
	if diff := cmp.Diff(want, modes); diff != "" {
		t.Errorf("files and modes (-want +got):\n%s", diff)
	}
	if got := string(s.files["clusters/prod/link.yaml"].data); got != "config.yaml" {
		t.Errorf("a link's content = %q, want its target", got)
	}
}

func TestCommitSnapshotsShareBlobs(t *testing.T) {
	dir := initOn(t, "main", oneCluster)
	if err := fleettest.Commit(dir, map[string]string{"clusters/dev/kustomization.yaml": "resources: []\n"}, "another cluster"); err != nil {
		t.Fatal(err)
	}
	r := openRepo(t, dir)
	var snaps []*Snapshot
	for _, rev := range []string{"HEAD~1", "HEAD"} {
		c, _ := r.Resolve(rev)
		s, err := r.CommitSnapshot(c)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	a, b := snaps[0].files["clusters/prod/config.yaml"].data, snaps[1].files["clusters/prod/config.yaml"].data
	if len(a) == 0 || &a[0] != &b[0] {
		t.Error("a file unchanged between two commits was read twice: blobs are read once per Repo")
	}
}

func TestWorktreeSnapshotIsWhatGitWouldCommit(t *testing.T) {
	files := map[string]string{
		".gitignore":        "*.local.yaml\nscratch/\n",
		"deploy/.gitignore": "notes.txt\n",
		"deploy/fleet/clusters/prod/kustomization.yaml": oneCluster["clusters/prod/kustomization.yaml"],
		"deploy/fleet/clusters/prod/config.yaml":        oneCluster["clusters/prod/config.yaml"],
	}
	top := initOn(t, "main", files)
	fleetDir := filepath.Join(top, "deploy", "fleet")
	for p, c := range map[string]string{
		"clusters/prod/config.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: edited, namespace: default}\n",
		"clusters/prod/untracked.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\n",
		"clusters/prod/secret.local.yaml":  "ignored by the top .gitignore\n",
		"clusters/prod/notes.txt":          "ignored by deploy/.gitignore\n",
		"clusters/prod/scratch/draft.yaml": "an ignored directory\n",
	} {
		p = filepath.Join(fleetDir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("config.yaml", filepath.Join(fleetDir, "clusters", "prod", "alias.yaml")); err != nil {
		t.Fatal(err)
	}
	s, err := openRepo(t, fleetDir).WorktreeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"clusters/prod/alias.yaml", "clusters/prod/config.yaml", "clusters/prod/kustomization.yaml", "clusters/prod/untracked.yaml"}
	if diff := cmp.Diff(want, s.paths); diff != "" {
		t.Errorf("working tree files (-want +got):\n%s", diff)
	}
	if got := string(s.files["clusters/prod/config.yaml"].data); !strings.Contains(got, "edited") {
		t.Errorf("an uncommitted change is missing: config.yaml = %q", got)
	}
	if e := s.files["clusters/prod/alias.yaml"]; e.mode != filemode.Symlink || string(e.data) != "config.yaml" {
		t.Errorf("the link is %v %q, want a symlink to config.yaml", e.mode, e.data)
	}
	if s.Name != "working tree" {
		t.Errorf("Name = %q", s.Name)
	}
}
