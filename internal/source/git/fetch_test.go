package git_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/source/artifact"
	"github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// fixture is a repository with a working copy to push from.
type fixture struct {
	root *gitserver.Root
	wd   *gitserver.Workdir
	name string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	return &fixture{root: root, wd: wd, name: "fleet"}
}

func (f *fixture) commit(t *testing.T, file, content string) string {
	t.Helper()
	f.wd.WriteFile(t, file, content)
	return f.wd.Commit(t, "change "+file)
}

func fetch(t *testing.T, url string, ref git.Reference, creds git.Credentials, cache string) (*git.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return git.Fetch(ctx, git.FetchOptions{URL: url, Ref: ref, Credentials: creds, CacheDir: cache})
}

func mustFetch(t *testing.T, url string, ref git.Reference, creds git.Credentials, cache string) *git.Result {
	t.Helper()
	res, err := fetch(t, url, ref, creds, cache)
	if err != nil {
		t.Fatalf("fetch %s of %s: %v", ref, url, err)
	}
	return res
}

// fileAt reads one file of a fetched revision through the artifact store.
func fileAt(t *testing.T, res *git.Result, rel string) string {
	t.Helper()
	store := artifact.NewStore(t.TempDir())
	stored, err := store.Write(context.Background(), artifact.Key{Kind: "GitRepository", Namespace: "ns", Name: "n"}, res.Revision, res, artifact.NewIgnore(""))
	if err != nil {
		t.Fatalf("storing %s: %v", res.Revision, err)
	}
	b, err := os.ReadFile(filepath.Join(store.Root(), stored.Path, rel))
	if err != nil {
		t.Fatalf("reading %s at %s: %v", rel, res.Revision, err)
	}
	return string(b)
}

func TestFetchEachRefKindOverHTTP(t *testing.T) {
	f := newFixture(t)
	first := f.commit(t, "app.yaml", "v: 1\n")
	f.wd.Tag(t, "v1.0.0", true)
	second := f.commit(t, "app.yaml", "v: 2\n")
	f.wd.Tag(t, "v1.2.0", false)
	f.wd.Tag(t, "v2.0.0-rc.1", false)
	f.wd.Tag(t, "not-a-version", false)
	f.wd.Push(t, "main", "--tags")
	srv := gitserver.NewHTTP(t, f.root, gitserver.WithBasicAuth("fleet", "pw-123"))
	creds := git.Credentials{Username: "fleet", Password: "pw-123"}

	cases := []struct {
		name         string
		ref          git.Reference
		wantRevision string
		wantContent  string
	}{
		{"empty ref follows main", git.Reference{}, "main@sha1:" + second, "v: 2\n"},
		{"branch", git.Reference{Branch: "main"}, "main@sha1:" + second, "v: 2\n"},
		{"annotated tag peels to its commit", git.Reference{Tag: "v1.0.0"}, "v1.0.0@sha1:" + first, "v: 1\n"},
		{"semver picks the newest stable tag", git.Reference{SemVer: ">=1.0.0"}, "v1.2.0@sha1:" + second, "v: 2\n"},
		{"semver range excluding newest", git.Reference{SemVer: "~1.0"}, "v1.0.0@sha1:" + first, "v: 1\n"},
		{"commit wins over branch and tag", git.Reference{Branch: "main", Tag: "v1.2.0", Commit: first}, "main@sha1:" + first, "v: 1\n"},
		{"commit without branch", git.Reference{Commit: first}, "sha1:" + first, "v: 1\n"},
		{"semver wins over tag", git.Reference{Tag: "v1.0.0", SemVer: "1.2.x"}, "v1.2.0@sha1:" + second, "v: 2\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustFetch(t, srv.RepoURL(f.name), tc.ref, creds, t.TempDir())
			if res.Revision != tc.wantRevision {
				t.Errorf("revision = %s, want %s", res.Revision, tc.wantRevision)
			}
			if got := fileAt(t, res, "app.yaml"); got != tc.wantContent {
				t.Errorf("app.yaml = %q, want %q", got, tc.wantContent)
			}
		})
	}
}

func TestFetchFailuresAreClassified(t *testing.T) {
	f := newFixture(t)
	sha := f.commit(t, "a.yaml", "a: 1\n")
	f.wd.Push(t, "main")
	srv := gitserver.NewHTTP(t, f.root, gitserver.WithBasicAuth("fleet", "right-password"))
	good := git.Credentials{Username: "fleet", Password: "right-password"}
	if sha == "" {
		t.Fatal("no commit")
	}

	cases := []struct {
		name  string
		url   string
		ref   git.Reference
		creds git.Credentials
		want  error
	}{
		{"wrong password", srv.RepoURL(f.name), git.Reference{}, git.Credentials{Username: "fleet", Password: "wrong-password"}, git.ErrAuthentication},
		{"no credentials", srv.RepoURL(f.name), git.Reference{}, git.Credentials{}, git.ErrAuthentication},
		{"missing branch", srv.RepoURL(f.name), git.Reference{Branch: "nope"}, good, git.ErrRefNotFound},
		{"missing tag", srv.RepoURL(f.name), git.Reference{Tag: "v9"}, good, git.ErrRefNotFound},
		{"no tag in range", srv.RepoURL(f.name), git.Reference{SemVer: ">=1.0.0"}, good, git.ErrRefNotFound},
		{"bad range", srv.RepoURL(f.name), git.Reference{SemVer: "not a range"}, good, git.ErrInvalidReference},
		{"unknown commit", srv.RepoURL(f.name), git.Reference{Commit: strings.Repeat("a", 40)}, good, git.ErrRefNotFound},
		{"server not listening", "http://127.0.0.1:1/fleet.git", git.Reference{}, good, git.ErrUnreachable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fetch(t, tc.url, tc.ref, tc.creds, t.TempDir())
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "password") && strings.Contains(err.Error(), tc.creds.Password) && tc.creds.Password != "" {
				t.Errorf("error carries the password: %v", err)
			}
			var gerr *git.Error
			if !errors.As(err, &gerr) || !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error must be a *git.Error naming the URL: %v", err)
			}
		})
	}
}

func TestFetchIsIncrementalAndFollowsForcePush(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "a.yaml", "a: 1\n")
	second := f.commit(t, "a.yaml", "a: 2\n")
	f.wd.Push(t, "main")
	srv := gitserver.NewHTTP(t, f.root)
	cache := t.TempDir()

	res := mustFetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{}, cache)
	if res.Incremental || res.Revision != "main@sha1:"+second {
		t.Fatalf("first fetch: incremental=%v revision=%s", res.Incremental, res.Revision)
	}
	if _, err := os.Stat(filepath.Join(cache, "shallow")); err != nil {
		t.Errorf("the first fetch must be shallow (no shallow file in the cache): %v", err)
	}
	requests := srv.Requests()
	third := f.commit(t, "a.yaml", "a: 3\n")
	f.wd.Push(t, "main")
	res = mustFetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{}, cache)
	if !res.Incremental || res.Revision != "main@sha1:"+third {
		t.Fatalf("second fetch: incremental=%v revision=%s, want incremental at %s", res.Incremental, res.Revision, third)
	}
	if n := srv.Requests() - requests; n > 2 {
		t.Errorf("an incremental fetch should take one ref discovery and one pack request, took %d requests", n)
	}

	f.wd.ResetHard(t, "HEAD~2")
	rewritten := f.commit(t, "a.yaml", "a: rewritten\n")
	f.wd.Push(t, "+main")
	res = mustFetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{}, cache)
	if res.Revision != "main@sha1:"+rewritten {
		t.Fatalf("after force push: revision = %s, want %s", res.Revision, rewritten)
	}
	if got := fileAt(t, res, "a.yaml"); got != "a: rewritten\n" {
		t.Errorf("a.yaml after force push = %q", got)
	}
}

func TestFetchFileURL(t *testing.T) {
	f := newFixture(t)
	sha := f.commit(t, "a.yaml", "a: 1\n")
	f.wd.Push(t, "main")
	res := mustFetch(t, f.root.FileURL(f.name), git.Reference{Branch: "main"}, git.Credentials{}, t.TempDir())
	if res.Revision != "main@sha1:"+sha {
		t.Fatalf("revision = %s, want main@sha1:%s", res.Revision, sha)
	}
}

func TestFetchOverSSHChecksHostKey(t *testing.T) {
	f := newFixture(t)
	sha := f.commit(t, "a.yaml", "a: 1\n")
	f.wd.Push(t, "main")
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, f.root, pub)
	other := gitserver.NewSSH(t, f.root, pub)
	otherKey, _ := gitserver.NewClientKey(t)

	res := mustFetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{Identity: key, KnownHosts: srv.KnownHosts()}, t.TempDir())
	if res.Revision != "main@sha1:"+sha {
		t.Fatalf("revision = %s", res.Revision)
	}
	// known_hosts of another server on the same name: the host key differs.
	wrongHosts := strings.Replace(string(other.KnownHosts()), other.Addr()[strings.LastIndex(other.Addr(), ":")+1:], srv.Addr()[strings.LastIndex(srv.Addr(), ":")+1:], 1)
	_, err := fetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{Identity: key, KnownHosts: []byte(wrongHosts)}, t.TempDir())
	if !errors.Is(err, git.ErrHostKey) {
		t.Errorf("unknown host key: error = %v, want ErrHostKey", err)
	}
	_, err = fetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{Identity: otherKey, KnownHosts: srv.KnownHosts()}, t.TempDir())
	if !errors.Is(err, git.ErrAuthentication) {
		t.Errorf("unauthorized key: error = %v, want ErrAuthentication", err)
	}
}

func TestFetchHTTPSWithPrivateCA(t *testing.T) {
	f := newFixture(t)
	sha := f.commit(t, "a.yaml", "a: 1\n")
	f.wd.Push(t, "main")
	srv := gitserver.NewHTTP(t, f.root, gitserver.WithTLS())
	res := mustFetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{CABundle: srv.CACert()}, t.TempDir())
	if res.Revision != "main@sha1:"+sha {
		t.Fatalf("revision = %s", res.Revision)
	}
	_, err := fetch(t, srv.RepoURL(f.name), git.Reference{}, git.Credentials{}, t.TempDir())
	if !errors.Is(err, git.ErrTLS) {
		t.Errorf("without the CA: error = %v, want ErrTLS", err)
	}
}

// TestCredentialsNotForwardedOnRedirect serves a repository behind basic
// auth whose server redirects to another host; the other host must never see
// the Authorization header.
func TestCredentialsNotForwardedOnRedirect(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "a.yaml", "a: 1\n")
	f.wd.Push(t, "main")
	real := gitserver.NewHTTP(t, f.root)

	var leaked, hits atomic.Int32
	other := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		http.Redirect(w, r, real.URL()+r.URL.RequestURI(), http.StatusFound)
	})}
	ln, err := net.Listen("tcp", "127.0.0.2:0") // another host on loopback
	if err != nil {
		t.Fatalf("listening on 127.0.0.2: %v", err)
	}
	go other.Serve(ln)
	t.Cleanup(func() { other.Close() })

	front := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "fleet" || pass != "redirect-secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "http://"+ln.Addr().String()+r.URL.RequestURI(), http.StatusFound)
	})}
	frontLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve(frontLn)
	t.Cleanup(func() { front.Close() })

	url := "http://" + frontLn.Addr().String() + "/fleet.git"
	fetch(t, url, git.Reference{}, git.Credentials{Username: "fleet", Password: "redirect-secret"}, t.TempDir())
	if hits.Load() == 0 {
		t.Fatal("the redirect was not followed: the test proves nothing")
	}
	if n := leaked.Load(); n > 0 {
		t.Fatalf("credentials were forwarded to another host %d times", n)
	}
}

// TestFetchFromStalledServerEndsAtTheDeadline points at a server that
// accepts connections and never answers: the fetch must end when its
// context does, with ErrUnreachable.
func TestFetchFromStalledServerEndsAtTheDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // hold it open, say nothing
		}
	}()
	for _, url := range []string{"http://" + ln.Addr().String() + "/fleet.git", "ssh://git@" + ln.Addr().String() + "/fleet.git"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		creds := git.Credentials{}
		if strings.HasPrefix(url, "ssh") {
			key, _ := gitserver.NewClientKey(t)
			creds = git.Credentials{Identity: key, KnownHosts: []byte(ln.Addr().String() + " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbCq1gYzHGmH1jC1dTNpmTd1AqNQ3vI4cHL7YhR1JpW\n")}
		}
		done := make(chan error, 1)
		go func() {
			_, err := git.Fetch(ctx, git.FetchOptions{URL: url, Credentials: creds, CacheDir: t.TempDir()})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, git.ErrUnreachable) {
				t.Errorf("%s: error = %v, want ErrUnreachable", url, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("%s: fetch ignored its context and hung", url)
		}
		cancel()
	}
}

// TestFetchCommitAfterBranchAndAcrossBranches: pinning an older commit
// after shallow branch fetches works, and a commit of another branch is
// refused for {branch, commit} even when it sits in the cache.
func TestFetchCommitAfterBranchAndAcrossBranches(t *testing.T) {
	f := newFixture(t)
	old := f.commit(t, "a.yaml", "a: 1\n")
	f.commit(t, "a.yaml", "a: 2\n")
	f.wd.Push(t, "main")
	f.wd.Checkout(t, "other", true)
	foreign := f.commit(t, "b.yaml", "b: 1\n")
	f.wd.Push(t, "other")
	srv := gitserver.NewHTTP(t, f.root)
	cache := t.TempDir() + "/repo"

	mustFetch(t, srv.RepoURL(f.name), git.Reference{Branch: "main"}, git.Credentials{}, cache)
	res := mustFetch(t, srv.RepoURL(f.name), git.Reference{Branch: "main", Commit: old}, git.Credentials{}, cache)
	if res.Revision != "main@sha1:"+old {
		t.Fatalf("revision = %s, want main@sha1:%s", res.Revision, old)
	}
	mustFetch(t, srv.RepoURL(f.name), git.Reference{Commit: foreign}, git.Credentials{}, cache)
	_, err := fetch(t, srv.RepoURL(f.name), git.Reference{Branch: "main", Commit: foreign}, git.Credentials{}, cache)
	if !errors.Is(err, git.ErrRefNotFound) || !strings.Contains(err.Error(), "history of branch main") {
		t.Fatalf("a commit of another branch must be refused for branch main: %v", err)
	}
}
