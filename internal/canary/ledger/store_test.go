package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	"github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

const (
	gitUser     = "fleet-bot"
	gitPassword = "git-pw-7c41e9a2"
)

// fleet is a repository on the real Git server, served over HTTP with
// basic auth, with a working copy that made its commit.
type fleet struct {
	root   *gitserver.Root
	srv    *gitserver.HTTPServer
	wd     *gitserver.Workdir
	commit string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	wd.WriteFile(t, "apps/podinfo.yaml", "kind: Deployment\n")
	commit := wd.Commit(t, "podinfo v1.1.0")
	wd.Push(t, "main")
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth(gitUser, gitPassword))
	return &fleet{root: root, srv: srv, wd: wd, commit: commit}
}

func (f *fleet) remote() ledger.Remote {
	return ledger.Remote{URL: f.srv.RepoURL("fleet"), Credentials: git.Credentials{Username: gitUser, Password: gitPassword}, Timeout: 30 * time.Second}
}

// gitLog is what a person sees with the real git: fetch the notes, then
// git log --notes=flotilla.
func (f *fleet) gitLog(t *testing.T) string {
	t.Helper()
	f.wd.Git(t, "fetch", "-q", "origin", "+refs/notes/flotilla:refs/notes/flotilla")
	return f.wd.Git(t, "log", "--notes=flotilla", "-1", f.commit)
}

func entry(canaryName string, phase v1alpha1.CanaryPhase, weight int, msg string) canary.LedgerEntry {
	return canary.LedgerEntry{Time: time.Date(2026, 12, 3, 17, 0, weight, 0, time.UTC), Canary: canaryName,
		Phase: phase, Weight: weight, Message: msg}
}

func lines(t *testing.T, entries ...canary.LedgerEntry) []string {
	t.Helper()
	var out []string
	for _, e := range entries {
		l, err := ledger.Format(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func TestAppendShowsBesideTheCommitInGitLog(t *testing.T) {
	f := newFleet(t)
	s := ledger.NewStore(ledger.WithDir(t.TempDir()))
	ctx := context.Background()
	first := lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseProgressing, 0, "analysis started"),
		entry("apps/podinfo", v1alpha1.CanaryPhaseProgressing, 10, "advanced to 10%"))
	if err := s.Append(ctx, f.remote(), f.commit, "ledger", first); err != nil {
		t.Fatal(err)
	}
	second := lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseSucceeded, 0, "promoted"))
	if err := s.Append(ctx, f.remote(), f.commit, "ledger", append(second, first[0])); err != nil {
		t.Fatal(err)
	}
	log := f.gitLog(t)
	if !strings.Contains(log, "Notes (flotilla):") {
		t.Fatalf("git log shows no flotilla notes:\n%s", log)
	}
	for _, want := range []string{
		"2026-12-03T17:00:00Z apps/podinfo Progressing weight 0% failed 0: analysis started",
		"2026-12-03T17:00:10Z apps/podinfo Progressing weight 10% failed 0: advanced to 10%",
		"2026-12-03T17:00:00Z apps/podinfo Succeeded weight 0% failed 0: promoted",
	} {
		if strings.Count(log, want) != 1 {
			t.Errorf("git log shows %q %d times, want once:\n%s", want, strings.Count(log, want), log)
		}
	}
	note := f.wd.Git(t, "notes", "--ref=flotilla", "show", f.commit)
	if got := ledger.ParseNote(f.commit, note); len(got) != 3 || got[2].Phase != v1alpha1.CanaryPhaseSucceeded {
		t.Errorf("the note parses to %+v", got)
	}
	if branches := f.wd.Git(t, "ls-remote", "origin", "refs/*"); strings.Count(branches, "\n") != 1 ||
		!strings.Contains(branches, "refs/heads/main") || !strings.Contains(branches, "refs/notes/flotilla") {
		t.Errorf("the remote has other refs than main and the notes:\n%s", branches)
	}
	if head := f.wd.Git(t, "rev-parse", "origin/main"); head != f.commit {
		t.Errorf("main moved to %s", head)
	}
}

func TestAppendKeepsNotesOfPeopleAndOtherCommits(t *testing.T) {
	f := newFleet(t)
	f.wd.Git(t, "notes", "--ref=flotilla", "add", "-m", "reviewed by alice", f.commit)
	f.wd.WriteFile(t, "apps/other.yaml", "x: 1\n")
	other := f.wd.Commit(t, "other")
	f.wd.Git(t, "notes", "--ref=flotilla", "add", "-m", "second commit note", other)
	f.wd.Push(t, "main", "refs/notes/flotilla")

	s := ledger.NewStore() // in memory
	l := lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseFailed, 0, "rolled back"))
	if err := s.Append(context.Background(), f.remote(), f.commit, "ledger", l); err != nil {
		t.Fatal(err)
	}
	f.wd.Git(t, "fetch", "-q", "origin", "+refs/notes/flotilla:refs/notes/flotilla")
	if got := f.wd.Git(t, "notes", "--ref=flotilla", "show", f.commit); !strings.HasPrefix(got, "reviewed by alice\n") || !strings.Contains(got, "rolled back") {
		t.Errorf("note of the commit = %q", got)
	}
	if got := f.wd.Git(t, "notes", "--ref=flotilla", "show", other); got != "second commit note" {
		t.Errorf("note of the other commit = %q", got)
	}
	notes, err := s.Notes(context.Background(), f.remote())
	if err != nil || len(notes) != 2 {
		t.Fatalf("Notes = %d notes, %v", len(notes), err)
	}
}

// TestTwoClustersAppendingAtOnceLoseNothing runs two writers, each with
// its own clone (two clusters), appending to the note of the same commit
// at the same time; every push after the first of a round is rejected and
// retried.
func TestTwoClustersAppendingAtOnceLoseNothing(t *testing.T) {
	f := newFleet(t)
	const rounds = 4
	// Each writer's first push of an append waits (briefly) for the other's,
	// so they race for the ref.
	arrived := map[string]chan struct{}{"prod-eu": make(chan struct{}, rounds), "prod-us": make(chan struct{}, rounds)}
	peer := map[string]string{"prod-eu": "prod-us", "prod-us": "prod-eu"}
	var retries atomic.Int32
	var wg sync.WaitGroup
	var want []string
	errs := make(chan error, 2)
	for _, cluster := range []string{"prod-eu", "prod-us"} {
		var mine []string
		for i := range rounds {
			mine = append(mine, lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseProgressing, i, cluster+" step "+fmt.Sprint(i)))...)
		}
		want = append(want, mine...)
		s := ledger.NewStore(ledger.WithDir(t.TempDir()), ledger.WithBackoff(10*time.Millisecond), ledger.WithMaxAttempts(20),
			ledger.WithBeforePush(func(attempt int) {
				if attempt > 1 {
					retries.Add(1)
					return
				}
				arrived[cluster] <- struct{}{}
				select {
				case <-arrived[peer[cluster]]:
				case <-time.After(2 * time.Second): // the other writer is done
				}
			}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, l := range mine {
				if err := s.Append(context.Background(), f.remote(), f.commit, "ledger of "+cluster, []string{l}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if retries.Load() == 0 {
		t.Error("no push was rejected and retried: the writers did not race")
	}
	log := f.gitLog(t)
	for _, l := range want {
		summary, _, _ := strings.Cut(l, "\t")
		if strings.Count(log, summary) != 1 {
			t.Errorf("git log shows %q %d times, want once:\n%s", summary, strings.Count(log, summary), log)
		}
	}
}

// TestRejectedPushIsFetchedAndRetried has another writer push the notes
// ref right before the first push, so the server refuses it.
func TestRejectedPushIsFetchedAndRetried(t *testing.T) {
	f := newFleet(t)
	other := ledger.NewStore()
	otherLine := lines(t, entry("apps/other", v1alpha1.CanaryPhaseSucceeded, 0, "promoted elsewhere"))
	var attempts []int
	s := ledger.NewStore(ledger.WithDir(t.TempDir()), ledger.WithBackoff(time.Millisecond),
		ledger.WithBeforePush(func(attempt int) {
			attempts = append(attempts, attempt)
			if attempt == 1 {
				if err := other.Append(context.Background(), f.remote(), f.commit, "other cluster", otherLine); err != nil {
					t.Errorf("the other writer: %v", err)
				}
			}
		}))
	mine := lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseFailed, 0, "rolled back"))
	if err := s.Append(context.Background(), f.remote(), f.commit, "ledger", mine); err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 2 {
		t.Errorf("push attempts %v, want a rejected one and a retry", attempts)
	}
	log := f.gitLog(t)
	for _, want := range []string{"apps/other Succeeded weight 0% failed 0: promoted elsewhere", "apps/podinfo Failed weight 0% failed 0: rolled back"} {
		if !strings.Contains(log, want) {
			t.Errorf("git log misses %q:\n%s", want, log)
		}
	}
}

func TestRejectedForeverGivesUpNamingTheRef(t *testing.T) {
	f := newFleet(t)
	other := ledger.NewStore()
	n := 0
	s := ledger.NewStore(ledger.WithMaxAttempts(2), ledger.WithBackoff(time.Millisecond),
		ledger.WithBeforePush(func(int) {
			n++
			l := lines(t, entry("apps/other", v1alpha1.CanaryPhaseProgressing, n, "moving"))
			if err := other.Append(context.Background(), f.remote(), f.commit, "other", l); err != nil {
				t.Errorf("the other writer: %v", err)
			}
		}))
	err := s.Append(context.Background(), f.remote(), f.commit, "ledger", lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseFailed, 0, "x")))
	if !errors.Is(err, ledger.ErrPushRejected) || !strings.Contains(err.Error(), "refs/notes/flotilla") {
		t.Fatalf("err = %v, want ErrPushRejected naming the ref", err)
	}
}

func TestWrongCredentialsSayAuthenticationWithoutThePassword(t *testing.T) {
	f := newFleet(t)
	r := f.remote()
	r.Credentials.Password = "wrong-pw-3d9f0b"
	err := ledger.NewStore().Append(context.Background(), r, f.commit, "ledger", lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseFailed, 0, "x")))
	if !errors.Is(err, git.ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	for _, secret := range []string{"wrong-pw-3d9f0b", gitPassword} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a password: %v", err)
		}
	}
	if !strings.Contains(err.Error(), f.srv.RepoURL("fleet")) {
		t.Errorf("the error does not name the repository: %v", err)
	}
}

func TestAppendOverSSH(t *testing.T) {
	f := newFleet(t)
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, f.root, pub)
	r := ledger.Remote{URL: srv.RepoURL("fleet"), Credentials: git.Credentials{Identity: key, KnownHosts: srv.KnownHosts()}, Timeout: 30 * time.Second}
	if err := ledger.NewStore().Append(context.Background(), r, f.commit, "ledger", lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseSucceeded, 0, "promoted over ssh"))); err != nil {
		t.Fatal(err)
	}
	if log := f.gitLog(t); !strings.Contains(log, "promoted over ssh") {
		t.Errorf("git log:\n%s", log)
	}
}

// TestAppendKeepsGitsFanout writes, with git's plumbing, a note under a
// fanout directory (ab/cdef..., as git lays notes out once there are
// many); the append must extend that note, not add a second one.
func TestAppendKeepsGitsFanout(t *testing.T) {
	f := newFleet(t)
	blob := f.wd.Git(t, "hash-object", "-w", writeTemp(t, "written by git\n"))
	sub := mktree(t, f.wd, fmt.Sprintf("100644 blob %s\t%s\n", blob, f.commit[2:]))
	root := mktree(t, f.wd, fmt.Sprintf("040000 tree %s\t%s\n", sub, f.commit[:2]))
	notes := f.wd.Git(t, "commit-tree", "-m", "fanout notes", root)
	f.wd.Git(t, "update-ref", "refs/notes/flotilla", notes)
	if got := f.wd.Git(t, "notes", "--ref=flotilla", "show", f.commit); got != "written by git" {
		t.Fatalf("git does not read its own fanout: %q", got)
	}
	f.wd.Push(t, "refs/notes/flotilla")

	if err := ledger.NewStore().Append(context.Background(), f.remote(), f.commit, "ledger", lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseSucceeded, 0, "promoted"))); err != nil {
		t.Fatal(err)
	}
	f.wd.Git(t, "fetch", "-q", "origin", "+refs/notes/flotilla:refs/notes/flotilla")
	if paths := f.wd.Git(t, "ls-tree", "-r", "--name-only", "refs/notes/flotilla"); paths != f.commit[:2]+"/"+f.commit[2:] {
		t.Errorf("notes tree paths = %q, want the one fanout path", paths)
	}
	if got := f.wd.Git(t, "notes", "--ref=flotilla", "show", f.commit); !strings.HasPrefix(got, "written by git\n") || !strings.Contains(got, "promoted") {
		t.Errorf("note = %q", got)
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mktree runs git mktree with entries on stdin.
func mktree(t *testing.T, wd *gitserver.Workdir, entries string) string {
	t.Helper()
	cmd := exec.Command("git", "mktree")
	cmd.Dir, cmd.Stdin = wd.Dir(), strings.NewReader(entries)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git mktree: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestCacheIsBounded(t *testing.T) {
	a, b := newFleet(t), newFleet(t)
	dir := t.TempDir()
	ctx := context.Background()
	l := lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseSucceeded, 0, "promoted"))

	kept := ledger.NewStore(ledger.WithDir(dir), ledger.WithCacheBounds(64<<20, 1))
	for _, f := range []*fleet{a, b} {
		if err := kept.Append(ctx, f.remote(), f.commit, "ledger", l); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d clones kept, want 1 (maxRepos)", len(entries))
	}

	tiny := ledger.NewStore(ledger.WithDir(dir), ledger.WithCacheBounds(1, 8))
	if err := tiny.Append(ctx, a.remote(), a.commit, "ledger", lines(t, entry("apps/podinfo", v1alpha1.CanaryPhaseFailed, 0, "again"))); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d clones kept, want only b's: a's grew past maxBytes", len(entries))
	}
	if log := a.gitLog(t); !strings.Contains(log, "promoted") || !strings.Contains(log, "again") {
		t.Errorf("git log:\n%s", log)
	}
}
