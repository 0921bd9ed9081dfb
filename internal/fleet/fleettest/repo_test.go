package fleettest

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func TestClusterNameIsZeroPadded(t *testing.T) {
	for i, want := range map[int]string{0: "cluster-00", 7: "cluster-07", 42: "cluster-42", 120: "cluster-120"} {
		if got := ClusterName(i); got != want {
			t.Errorf("ClusterName(%d) = %q, want %q", i, got, want)
		}
	}
}

// Every resource a kustomization lists is a file or a directory of the
// fleet: a generated repository always renders.
func TestFilesListOnlyResourcesThatExist(t *testing.T) {
	files := Files(Options{Clusters: 2, Objects: 60})
	for p, content := range files {
		if path.Base(p) != "kustomization.yaml" {
			continue
		}
		var k struct{ Resources []string }
		if err := yaml.Unmarshal([]byte(content), &k); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range k.Resources {
			target := path.Join(path.Dir(p), r)
			if _, ok := files[target]; ok {
				continue
			}
			if _, ok := files[target+"/kustomization.yaml"]; !ok {
				t.Errorf("%s lists %s, which is neither a file nor a kustomization", p, r)
			}
		}
	}
}

// Every file is YAML with an apiVersion and a kind.
func TestFilesAreKubernetesYAML(t *testing.T) {
	for p, content := range Files(Options{Clusters: 2, Objects: 40}) {
		var obj struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(content), &obj); err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if obj.APIVersion == "" || obj.Kind == "" {
			t.Errorf("%s has apiVersion %q kind %q", p, obj.APIVersion, obj.Kind)
		}
	}
}

// Each cluster holds two Stacks: infrastructure, and apps after it, both
// reading the fleet GitRepository, with the cluster's name substituted.
func TestClusterStacks(t *testing.T) {
	files := Files(Options{Clusters: 3, Objects: 20})
	for i := range 3 {
		name := ClusterName(i)
		type stackSpec struct {
			Metadata struct{ Name, Namespace string }
			Spec     struct {
				DependsOn []struct{ Name string }     `json:"dependsOn"`
				SourceRef struct{ Kind, Name string } `json:"sourceRef"`
				Path      string
				Prune     bool
				PostBuild struct {
					Substitute map[string]string
				} `json:"postBuild"`
			}
		}
		var infra, apps stackSpec
		for f, s := range map[string]*stackSpec{"infrastructure.yaml": &infra, "apps.yaml": &apps} {
			if err := yaml.Unmarshal([]byte(files["clusters/"+name+"/"+f]), s); err != nil {
				t.Fatalf("%s/%s: %v", name, f, err)
			}
		}
		if infra.Spec.Path != "./infrastructure/base" || apps.Spec.Path != "./apps/overlays/"+name {
			t.Errorf("%s: paths %q and %q", name, infra.Spec.Path, apps.Spec.Path)
		}
		if len(apps.Spec.DependsOn) != 1 || apps.Spec.DependsOn[0].Name != "infrastructure" || len(infra.Spec.DependsOn) != 0 {
			t.Errorf("%s: apps dependsOn %v, infrastructure dependsOn %v", name, apps.Spec.DependsOn, infra.Spec.DependsOn)
		}
		for _, s := range []stackSpec{infra, apps} {
			if s.Spec.SourceRef != (struct{ Kind, Name string }{"GitRepository", "fleet"}) || !s.Spec.Prune || s.Metadata.Namespace != "flotilla-system" {
				t.Errorf("%s/%s: sourceRef %+v prune %v namespace %q", name, s.Metadata.Name, s.Spec.SourceRef, s.Spec.Prune, s.Metadata.Namespace)
			}
			if s.Spec.PostBuild.Substitute["CLUSTER_NAME"] != name {
				t.Errorf("%s/%s substitutes CLUSTER_NAME=%q", name, s.Metadata.Name, s.Spec.PostBuild.Substitute["CLUSTER_NAME"])
			}
		}
	}
}

// Fewer than 20 objects is raised to 20, and more clusters add files
// without changing the shared ones.
func TestFilesSizing(t *testing.T) {
	if diff := cmp.Diff(Files(Options{Clusters: 1, Objects: 20}), Files(Options{Clusters: 1, Objects: 3})); diff != "" {
		t.Errorf("Objects below 20 is not raised to 20:\n%s", diff)
	}
	one, three := Files(Options{Clusters: 1, Objects: 40}), Files(Options{Clusters: 3, Objects: 40})
	for p, c := range one {
		if three[p] != c {
			t.Errorf("%s differs between one and three clusters", p)
		}
	}
	if _, ok := three[Overlay(2)]; !ok || len(three) <= len(one) {
		t.Errorf("three clusters have %d files, one has %d", len(three), len(one))
	}
	if _, ok := one[Overlay(1)]; ok {
		t.Error("one cluster has the overlay of a second")
	}
}

func TestWriteAndCopyDirRoundTrip(t *testing.T) {
	dir := t.TempDir()
	files := Files(Options{Clusters: 2, Objects: 24})
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	got, err := CopyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(files, got); diff != "" {
		t.Errorf("CopyDir after Write (-want +got):\n%s", diff)
	}
}

func TestWriteDeletesEmptyContent(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, map[string]string{"a/b.yaml": "x: 1\n", "c.yaml": "y: 2\n"}); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, map[string]string{"a/b.yaml": "", "never-there.yaml": ""}); err != nil {
		t.Fatalf("deleting a file, and one that never was: %v", err)
	}
	got, err := CopyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"c.yaml": "y: 2\n"}, got); diff != "" {
		t.Errorf("files after the delete (-want +got):\n%s", diff)
	}
}

func TestCopyDirOfAMissingDirectoryFails(t *testing.T) {
	if _, err := CopyDir(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("CopyDir of a missing directory succeeded")
	}
}

func gitOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// InitRepo and Commit give the same commits for the same files: the
// identity and the dates are fixed, so a benchmark's revisions repeat.
func TestRepositoriesAreReproducible(t *testing.T) {
	files := map[string]string{"clusters/a/kustomization.yaml": kustomization(nil, "")}
	heads := make([]string, 2)
	for i := range heads {
		dir := t.TempDir()
		if err := InitRepo(dir, files); err != nil {
			t.Fatal(err)
		}
		if err := Commit(dir, map[string]string{"clusters/a/kustomization.yaml": "", "README.md": "fleet\n"}, "second"); err != nil {
			t.Fatal(err)
		}
		heads[i] = gitOutput(t, dir, "rev-parse", "HEAD")
		if branch := gitOutput(t, dir, "rev-parse", "--abbrev-ref", "HEAD"); branch != "main" {
			t.Errorf("branch %q, want main", branch)
		}
		if log := gitOutput(t, dir, "log", "--format=%an <%ae> %s"); log != "Fleet Test <fleet@example.com> second\nFleet Test <fleet@example.com> the fleet" {
			t.Errorf("log:\n%s", log)
		}
		if tree := gitOutput(t, dir, "ls-tree", "-r", "--name-only", "HEAD"); tree != "README.md" {
			t.Errorf("tree after the delete: %q", tree)
		}
	}
	if heads[0] != heads[1] {
		t.Errorf("the same commits have different hashes: %s and %s", heads[0], heads[1])
	}
}

// An empty Commit still commits, so a test can make a new revision.
func TestCommitWithNoChangeMakesARevision(t *testing.T) {
	dir := t.TempDir()
	if err := InitRepo(dir, map[string]string{"a.yaml": "a: 1\n"}); err != nil {
		t.Fatal(err)
	}
	before := gitOutput(t, dir, "rev-parse", "HEAD")
	if err := Commit(dir, nil, "nothing"); err != nil {
		t.Fatal(err)
	}
	if after := gitOutput(t, dir, "rev-parse", "HEAD"); after == before {
		t.Error("an empty Commit made no commit")
	}
}

func TestGitErrorNamesTheCommandAndItsOutput(t *testing.T) {
	err := Git(t.TempDir(), "rev-parse", "no-such-revision")
	if err == nil {
		t.Fatal("git rev-parse of a missing revision succeeded outside a repository")
	}
	if !strings.Contains(err.Error(), "git rev-parse no-such-revision") || !strings.Contains(err.Error(), "fatal") {
		t.Errorf("error %q does not name the command and git's answer", err)
	}
}

// The render paths of a cluster are its root and the paths of its Stacks.
func TestRenderPathsMatchTheStacks(t *testing.T) {
	files := Files(Options{Clusters: 2, Objects: 20})
	paths := RenderPaths(1)
	if paths[0] != "clusters/"+ClusterName(1) {
		t.Errorf("first render path %q is not the cluster's root", paths[0])
	}
	for _, p := range paths[1:] {
		found := false
		for _, f := range []string{"infrastructure.yaml", "apps.yaml"} {
			if strings.Contains(files[paths[0]+"/"+f], "path: ./"+p+"\n") {
				found = true
			}
		}
		if !found {
			t.Errorf("render path %s is no Stack's path", p)
		}
	}
}
