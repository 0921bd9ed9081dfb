package gitserve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeded returns a root with repository "fleet" seeded with one file and
// the work tree that pushed it.
func seeded(t *testing.T) (*Root, *Workdir, string) {
	t.Helper()
	root, err := NewRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wd, sha, err := root.Seed("fleet", t.TempDir(), map[string]string{"apps/app.yaml": "kind: ConfigMap\n"}, "seed")
	if err != nil {
		t.Fatal(err)
	}
	return root, wd, sha
}

// must returns a function that returns out, failing the test on err:
// must(t)(wd.Git(...)).
func must(t *testing.T) func(out string, err error) string {
	return func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// remote runs git in the bare repository "fleet" of root.
func remote(t *testing.T, root *Root, args ...string) (string, error) {
	t.Helper()
	return Git(root.Path("fleet"), t.TempDir(), nil, args...)
}

func TestNewWorkdirConfiguresTheRepository(t *testing.T) {
	base := t.TempDir()
	wd, err := NewWorkdir(base, "https://git.example.invalid/fleet.git")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(wd.Dir()) != base || !strings.HasPrefix(filepath.Base(wd.Dir()), "work-") {
		t.Errorf("Dir = %q, want a work-* directory under %s", wd.Dir(), base)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"remote", "get-url", "origin"}, "https://git.example.invalid/fleet.git"},
		{[]string{"symbolic-ref", "HEAD"}, "refs/heads/main"},
		{[]string{"config", "user.name"}, "gitserver test"},
		{[]string{"config", "user.email"}, "gitserver@example.invalid"},
		{[]string{"config", "commit.gpgsign"}, "false"},
		{[]string{"config", "core.autocrlf"}, "false"},
	} {
		if got := must(t)(wd.Git(tc.args...)); got != tc.want {
			t.Errorf("git %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}

func TestNewWorkdirInAMissingBaseFails(t *testing.T) {
	if _, err := NewWorkdir(filepath.Join(t.TempDir(), "missing"), "file:///nowhere"); err == nil {
		t.Error("NewWorkdir under a missing directory: want an error")
	}
}

func TestWorkdirWriteFileCreatesParents(t *testing.T) {
	_, wd, _ := seeded(t)
	if err := wd.WriteFile("clusters/prod/apps/stack.yaml", "kind: Stack\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(wd.Dir(), "clusters", "prod", "apps", "stack.yaml")); err != nil || string(got) != "kind: Stack\n" {
		t.Errorf("written file = %q, %v", got, err)
	}
	err := wd.WriteFile("apps/app.yaml/inside", "x")
	if err == nil || !strings.Contains(err.Error(), "work tree apps/app.yaml/inside") {
		t.Errorf("writing under a file: %v, want an error naming the path", err)
	}
	if err := wd.WriteFiles(map[string]string{"a.yaml": "a", "apps/app.yaml/b": "b"}); err == nil {
		t.Error("WriteFiles with one bad path: want its error")
	}
}

func TestWorkdirCommitRemoveAndSymlink(t *testing.T) {
	_, wd, first := seeded(t)
	if err := wd.Symlink("apps/app.yaml", "current.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := wd.Remove("apps"); err != nil {
		t.Fatal(err)
	}
	second := must(t)(wd.Commit("link and remove"))
	if second == first || len(second) != 40 {
		t.Fatalf("Commit = %q, want a new full SHA", second)
	}
	tree := must(t)(wd.Git("ls-tree", "-r", "HEAD"))
	if strings.Contains(tree, "apps/app.yaml") {
		t.Errorf("the removed directory is still committed:\n%s", tree)
	}
	if !strings.HasPrefix(tree, "120000 blob") || !strings.HasSuffix(tree, "\tcurrent.yaml") {
		t.Errorf("tree = %q, want current.yaml committed as a symbolic link", tree)
	}
	if err := wd.Remove("missing/dir"); err != nil {
		t.Errorf("removing a missing path: %v, want nothing to do", err)
	}
	empty := must(t)(wd.Commit("nothing changed"))
	if parent := must(t)(wd.Git("rev-parse", "HEAD^")); empty == second || parent != second {
		t.Errorf("an empty commit = %s with parent %s; want a new commit on %s", empty, parent, second)
	}
}

func TestWorkdirSymlinkOverAnExistingFileFails(t *testing.T) {
	_, wd, _ := seeded(t)
	if err := wd.Symlink("elsewhere", "apps/app.yaml"); err == nil {
		t.Error("Symlink over an existing file: want an error")
	}
}

func TestWorkdirBranchesTagsAndResets(t *testing.T) {
	root, wd, first := seeded(t)
	if err := wd.Checkout("feature", true); err != nil {
		t.Fatal(err)
	}
	if err := wd.WriteFile("feature.yaml", "f"); err != nil {
		t.Fatal(err)
	}
	feature := must(t)(wd.Commit("feature"))
	if err := wd.Push("feature"); err != nil {
		t.Fatal(err)
	}
	if err := wd.Checkout("main", false); err != nil {
		t.Fatal(err)
	}
	if got := must(t)(wd.Git("rev-parse", "HEAD")); got != first {
		t.Errorf("HEAD after checking main out = %s, want %s", got, first)
	}
	if err := wd.Checkout("no-such-branch", false); err == nil {
		t.Error("checking out a missing branch without create: want an error")
	}
	if err := wd.Checkout("feature", true); err == nil {
		t.Error("creating a branch that exists: want an error")
	}

	if err := wd.Tag("v1.0.0", false); err != nil {
		t.Fatal(err)
	}
	if err := wd.Tag("v1.1.0", true); err != nil {
		t.Fatal(err)
	}
	if err := wd.Push("--tags"); err != nil {
		t.Fatal(err)
	}
	for tag, wantType := range map[string]string{"v1.0.0": "commit", "v1.1.0": "tag"} {
		if got, err := remote(t, root, "cat-file", "-t", tag); err != nil || got != wantType {
			t.Errorf("tag %s on the server is a %q, %v; want %q", tag, got, err, wantType)
		}
	}
	if got, err := remote(t, root, "cat-file", "-p", "v1.1.0"); err != nil || !strings.HasSuffix(got, "\n\nv1.1.0") {
		t.Errorf("annotated tag = %q, %v; want the name as its message", got, err)
	}

	if err := wd.ResetHard(feature); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(wd.Dir(), "feature.yaml")); err != nil {
		t.Errorf("after reset --hard to the feature commit: %v", err)
	}
	if err := wd.ResetHard("no-such-revision"); err == nil {
		t.Error("reset to a missing revision: want an error")
	}
}

func TestWorkdirForcePushAndDeleteRemoteBranch(t *testing.T) {
	root, wd, first := seeded(t)
	second := must(t)(wd.CommitAndPush("second"))
	if err := wd.ResetHard(first); err != nil {
		t.Fatal(err)
	}
	if err := wd.Push("main"); err == nil {
		t.Error("pushing a rewound main without '+': want git's non-fast-forward refusal")
	}
	if got := must(t)(remote(t, root, "rev-parse", "main")); got != second {
		t.Errorf("main on the server = %s after a refused push, want %s", got, second)
	}
	if err := wd.Push("+main"); err != nil {
		t.Fatal(err)
	}
	if got := must(t)(remote(t, root, "rev-parse", "main")); got != first {
		t.Errorf("main on the server = %s after a forced push, want %s", got, first)
	}

	if err := wd.Push("main:refs/heads/old"); err != nil {
		t.Fatal(err)
	}
	if err := wd.DeleteRemoteBranch("old"); err != nil {
		t.Fatal(err)
	}
	if got := must(t)(remote(t, root, "branch", "--list")); strings.Contains(got, "old") {
		t.Errorf("branches on the server = %q after deleting old", got)
	}
	if err := wd.DeleteRemoteBranch("never-existed"); err == nil {
		t.Error("deleting a branch the server does not have: want an error")
	}
}

func TestWorkdirGitErrorHoldsStderr(t *testing.T) {
	_, wd, _ := seeded(t)
	_, err := wd.Git("rev-parse", "--verify", "no-such-ref")
	if err == nil || !strings.Contains(err.Error(), "git rev-parse --verify no-such-ref") || !strings.Contains(err.Error(), "fatal:") {
		t.Errorf("err = %v, want the command and git's fatal message", err)
	}
}

func TestRootPathsAndInitBare(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	root, err := NewRoot(link)
	if err != nil {
		t.Fatal(err)
	}
	if root.Dir != real {
		t.Errorf("Dir = %q, want the link resolved to %q", root.Dir, real)
	}
	if got, want := root.Path("teams/apps"), filepath.Join(real, "teams", "apps.git"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if got, want := root.FileURL("fleet"), "file://"+filepath.Join(real, "fleet.git"); got != want {
		t.Errorf("FileURL = %q, want %q", got, want)
	}
	p, err := root.InitBare("fleet")
	if err != nil || p != root.Path("fleet") {
		t.Fatalf("InitBare = %q, %v", p, err)
	}
	for args, want := range map[string]string{
		"rev-parse --is-bare-repository": "true",
		"symbolic-ref HEAD":              "refs/heads/main",
	} {
		if got := must(t)(remote(t, root, strings.Fields(args)...)); got != want {
			t.Errorf("git %s = %q, want %q", args, got, want)
		}
	}
}

func TestRootInitBareInARemovedRootFails(t *testing.T) {
	root, err := NewRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root.Dir); err != nil {
		t.Fatal(err)
	}
	if _, err := root.InitBare("fleet"); err == nil {
		t.Error("InitBare in a removed root: want an error")
	}
	if _, _, err := root.Seed("fleet", t.TempDir(), nil, "seed"); err == nil {
		t.Error("Seed in a removed root: want an error")
	}
}

func TestRootSeedOfAnExistingRepositoryIsRefused(t *testing.T) {
	root, _, first := seeded(t)
	if _, _, err := root.Seed("fleet", t.TempDir(), map[string]string{"other.yaml": "x"}, "unrelated"); err == nil {
		t.Error("seeding fleet again: want git's refusal of unrelated history")
	}
	if got := must(t)(remote(t, root, "rev-parse", "main")); got != first {
		t.Errorf("main = %s after a refused second seed, want %s", got, first)
	}
}

func TestRootSetHookRunsOnPush(t *testing.T) {
	root, wd, _ := seeded(t)
	marker := filepath.Join(t.TempDir(), "pushed")
	if err := root.SetHook("fleet", "post-receive", "#!/bin/sh\ncat > "+marker+"\n"); err != nil {
		t.Fatal(err)
	}
	sha := must(t)(wd.CommitAndPush("hooked"))
	got, err := os.ReadFile(marker)
	if err != nil {
		t.Fatalf("the post-receive hook did not run: %v", err)
	}
	if !strings.Contains(string(got), " "+sha+" refs/heads/main") {
		t.Errorf("post-receive input = %q, want the update of main to %s", got, sha)
	}
	err = root.SetHook("missing", "post-receive", "#!/bin/sh\n")
	if err == nil || !strings.Contains(err.Error(), "setting hook post-receive of missing") {
		t.Errorf("a hook for a missing repository: %v, want an error naming hook and repository", err)
	}
}

func TestEnvIsolatesGitFromTheUser(t *testing.T) {
	t.Setenv("GIT_DIR", "/nowhere")
	t.Setenv("GIT_AUTHOR_NAME", "leaked")
	t.Setenv("XDG_CONFIG_HOME", "/user/config")
	t.Setenv("SSH_AUTH_SOCK", "/user/agent.sock")
	t.Setenv("FLOTILLA_KEPT", "1")
	got := env("/git/home", "EXTRA=1")
	have := map[string]int{}
	for _, kv := range got {
		have[kv]++
		if k, _, _ := strings.Cut(kv, "="); k == "GIT_DIR" || k == "GIT_AUTHOR_NAME" || k == "SSH_AUTH_SOCK" {
			t.Errorf("env holds the user's %s", kv)
		}
	}
	for _, want := range []string{"HOME=/git/home", "XDG_CONFIG_HOME=/git/home", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "FLOTILLA_KEPT=1"} {
		if have[want] != 1 {
			t.Errorf("env holds %q %d times, want once", want, have[want])
		}
	}
	if got[len(got)-1] != "EXTRA=1" {
		t.Errorf("env ends with %q, want the extra variables last so they win", got[len(got)-1])
	}
}

func TestGitIgnoresTheUsersConfiguration(t *testing.T) {
	userHome := t.TempDir()
	if err := os.WriteFile(filepath.Join(userHome, ".gitconfig"), []byte("[user]\n\tname = leaked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", userHome)
	t.Setenv("GIT_DIR", "/nowhere")
	if got, err := Git(t.TempDir(), t.TempDir(), nil, "config", "--global", "user.name"); err == nil {
		t.Errorf("git saw the user's name %q", got)
	}
	ident, err := Git(t.TempDir(), t.TempDir(), []string{"GIT_AUTHOR_NAME=Fleet Bot", "GIT_AUTHOR_EMAIL=bot@example.invalid"}, "var", "GIT_AUTHOR_IDENT")
	if err != nil || !strings.HasPrefix(ident, "Fleet Bot <bot@example.invalid> ") {
		t.Errorf("GIT_AUTHOR_IDENT = %q, %v; want the extra environment's identity", ident, err)
	}
}
