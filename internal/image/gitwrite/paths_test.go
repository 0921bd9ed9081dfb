package gitwrite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/image/gitwrite"
	"github.com/flotilla-io/flotilla/internal/image/setters"
	"github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// served is a seeded repository on the real Git server over HTTP.
func served(t *testing.T) (*repo, string) {
	t.Helper()
	r := newRepo(t)
	return r, gitserver.NewHTTP(t, r.root).RepoURL("fleet")
}

func writeErr(t *testing.T, w *gitwrite.Writer, req gitwrite.Request) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := w.Write(ctx, req)
	if err == nil {
		t.Fatalf("write succeeded: %+v", res)
	}
	return err
}

func TestEditAndMessageErrorsStopBeforeThePush(t *testing.T) {
	editFailed := errors.New("the edit failed")
	messageFailed := errors.New("the template failed")
	tests := []struct {
		name   string
		change func(*gitwrite.Request)
		want   error
	}{
		{"edit", func(req *gitwrite.Request) {
			req.Edit = func(context.Context, string) (*setters.Report, error) { return nil, editFailed }
		}, editFailed},
		{"message", func(req *gitwrite.Request) {
			req.Message = func(setters.Result) (string, error) { return "", messageFailed }
		}, messageFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, url := served(t)
			before := r.head(t, "main")
			req := request(url, git.Credentials{}, nginx)
			tt.change(&req)
			if err := writeErr(t, gitwrite.NewWriter(), req); !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if after := r.head(t, "main"); after != before {
				t.Errorf("main moved from %s to %s after a failed %s", before, after, tt.name)
			}
		})
	}
}

func TestMissingBranchIsRefNotFound(t *testing.T) {
	_, url := served(t)
	req := request(url, git.Credentials{}, nginx)
	req.Branch = "no-such-branch"
	err := writeErr(t, gitwrite.NewWriter(), req)
	var we *gitwrite.Error
	if !errors.As(err, &we) || we.Op != "fetch branch no-such-branch" || !errors.Is(err, git.ErrRefNotFound) {
		t.Fatalf("error = %v, want a fetch error wrapping ErrRefNotFound", err)
	}
}

func TestRefspecAloneLeavesTheBranch(t *testing.T) {
	r, url := served(t)
	before := r.head(t, "main")
	req := request(url, git.Credentials{}, nginx)
	req.Refspec = "refs/heads/main:refs/heads/staging"
	res := write(t, gitwrite.NewWriter(), req)
	if got := r.head(t, "staging"); got != res.Commit {
		t.Errorf("staging = %s, want the commit %s", got, res.Commit)
	}
	if got := r.head(t, "main"); got != before {
		t.Errorf("main moved to %s; only the refspec is pushed", got)
	}
}

func TestPushBranchNamedAsTheBranchPushesToIt(t *testing.T) {
	r, url := served(t)
	req := request(url, git.Credentials{}, nginx)
	req.PushBranch = "main"
	res := write(t, gitwrite.NewWriter(), req)
	if res.Unchanged || r.head(t, "main") != res.Commit {
		t.Errorf("result %+v; main = %s", res, r.head(t, "main"))
	}
}

func TestInvalidRefspecNamesIt(t *testing.T) {
	r, url := served(t)
	before := r.head(t, "main")
	req := request(url, git.Credentials{}, nginx)
	req.Refspec = "not a refspec"
	err := writeErr(t, gitwrite.NewWriter(), req)
	var we *gitwrite.Error
	if !errors.As(err, &we) || we.Op != "push" || !strings.Contains(err.Error(), `refspec "not a refspec"`) {
		t.Fatalf("error = %v", err)
	}
	if r.head(t, "main") != before {
		t.Error("main moved")
	}
}

func TestNothingToChangeMakesNoCommit(t *testing.T) {
	r, url := served(t)
	before := r.head(t, "main")
	res := write(t, gitwrite.NewWriter(), request(url, git.Credentials{}, setters.Policies{"apps:nginx": {Name: "docker.io/library/nginx", Tag: "1.25.0"}}))
	if res.Commit != "" || res.Unchanged || res.Attempts != 1 || !res.Report.Result.Empty() {
		t.Errorf("result = %+v, want no commit", res)
	}
	if res.BaseRevision != "main@sha1:"+before {
		t.Errorf("base revision = %q, want main@sha1:%s", res.BaseRevision, before)
	}
	if r.head(t, "main") != before {
		t.Error("main moved")
	}
}

func TestEditRunsInACheckoutOfTheBranch(t *testing.T) {
	r, url := served(t)
	r.wd.Checkout(t, "release", true)
	r.wd.WriteFile(t, "apps/only-on-release.yaml", "kind: ConfigMap\n")
	r.wd.Commit(t, "release only")
	r.wd.Push(t, "release")
	var seen []string
	req := request(url, git.Credentials{}, nginx)
	req.Branch = "release"
	req.Edit = func(ctx context.Context, dir string) (*setters.Report, error) {
		entries, err := os.ReadDir(filepath.Join(dir, "apps"))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			seen = append(seen, e.Name())
		}
		return setters.Apply(ctx, dir, "apps", nginx)
	}
	res := write(t, gitwrite.NewWriter(), req)
	if strings.Join(seen, ",") != "a.yaml,b.yaml,only-on-release.yaml" {
		t.Errorf("the edit saw %v, want the release branch's files", seen)
	}
	if r.head(t, "release") != res.Commit || !strings.HasPrefix(res.BaseRevision, "release@sha1:") {
		t.Errorf("result %+v; release = %s", res, r.head(t, "release"))
	}
}

func TestKeptClonesAreOnePerPushBranchAndABrokenOneIsReplaced(t *testing.T) {
	_, url := served(t)
	work := t.TempDir()
	w := gitwrite.NewWriter(gitwrite.WithWorkDir(work))
	for _, push := range []string{"auto/a", "auto/b"} {
		req := request(url, git.Credentials{}, nginx)
		req.PushBranch = push
		write(t, w, req)
	}
	entries, err := os.ReadDir(work)
	if err != nil || len(entries) != 2 {
		t.Fatalf("work directory holds %d entries, want one clone per push branch: %v", len(entries), err)
	}
	broken := filepath.Join(work, entries[0].Name())
	if err := os.RemoveAll(broken); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("not a clone"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, push := range []string{"auto/a", "auto/b"} {
		req := request(url, git.Credentials{}, setters.Policies{"apps:nginx": {Name: "docker.io/library/nginx", Tag: "1.28.0"}})
		req.PushBranch = push
		if res := write(t, w, req); res.Commit == "" {
			t.Errorf("%s: no commit after the clone was replaced", push)
		}
	}
	if fi, err := os.Stat(filepath.Join(broken, ".git")); err != nil || !fi.IsDir() {
		t.Errorf("the broken clone was not replaced by a repository: %v", err)
	}
}

func TestTemporaryCloneIsRemoved(t *testing.T) {
	_, url := served(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var dir string
	req := request(url, git.Credentials{}, nginx)
	req.Edit = func(ctx context.Context, d string) (*setters.Report, error) {
		dir = d
		return setters.Apply(ctx, d, "apps", nginx)
	}
	write(t, gitwrite.NewWriter(), req)
	if !strings.HasPrefix(dir, tmp) {
		t.Fatalf("the checkout %s is not under TMPDIR %s", dir, tmp)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary checkout %s is still there: %v", dir, err)
	}
}
