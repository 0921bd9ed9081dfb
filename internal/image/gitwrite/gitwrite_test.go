package gitwrite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/flotilla-io/flotilla/internal/image/gitwrite"
	"github.com/flotilla-io/flotilla/internal/image/setters"
	"github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

const (
	deployA = "kind: Deployment\nmetadata:\n  name: a\nspec:\n  image: docker.io/library/nginx:1.25.0 # {\"$imagepolicy\": \"apps:nginx\"}\n  replicas: 2 # untouched\n"
	deployB = "kind: Deployment\nmetadata:\n  name: b\nspec:\n  image: docker.io/library/redis:7.0.0 # {\"$imagepolicy\": \"apps:redis\"}\n"
)

// repo is a bare repository on the real Git server with a working copy
// that seeds and inspects it.
type repo struct {
	root *gitserver.Root
	wd   *gitserver.Workdir
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	wd.WriteFile(t, "apps/a.yaml", deployA)
	wd.WriteFile(t, "apps/b.yaml", deployB)
	wd.WriteFile(t, "other/a.yaml", deployA)
	wd.Commit(t, "seed")
	wd.Push(t, "main")
	return &repo{root: root, wd: wd}
}

// head returns the commit of a remote branch.
func (r *repo) head(t *testing.T, branch string) string {
	t.Helper()
	r.wd.Git(t, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
	return r.wd.Git(t, "rev-parse", "origin/"+branch)
}

// show returns a file at a remote branch.
func (r *repo) show(t *testing.T, branch, file string) string {
	t.Helper()
	r.wd.Git(t, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
	return r.wd.Git(t, "show", "origin/"+branch+":"+file) + "\n"
}

func edit(policies setters.Policies) gitwrite.EditFunc {
	return func(ctx context.Context, dir string) (*setters.Report, error) {
		return setters.Apply(ctx, dir, "apps", policies)
	}
}

func message(r setters.Result) (string, error) {
	var b strings.Builder
	b.WriteString("Update images\n\n")
	for _, c := range r.Changes() {
		fmt.Fprintf(&b, "- %s -> %s\n", c.OldValue, c.NewValue)
	}
	return b.String(), nil
}

func request(url string, creds git.Credentials, policies setters.Policies) gitwrite.Request {
	return gitwrite.Request{
		URL: url, Credentials: creds, Branch: "main",
		AuthorName: "Flotilla", AuthorEmail: "flotilla@example.com",
		Edit: edit(policies), Message: message,
	}
}

var nginx = setters.Policies{"apps:nginx": {Name: "docker.io/library/nginx", Tag: "1.27.1"}}

func write(t *testing.T, w *gitwrite.Writer, req gitwrite.Request) *gitwrite.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := w.Write(ctx, req)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	return res
}

func TestWriteOverHTTPWithCredentials(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root, gitserver.WithBasicAuth("fleet", "pw-secret-123"))
	creds := git.Credentials{Username: "fleet", Password: "pw-secret-123"}
	res := write(t, gitwrite.NewWriter(), request(srv.RepoURL("fleet"), creds, nginx))

	if res.Commit == "" || res.Attempts != 1 {
		t.Fatalf("result = %+v, want one commit in one attempt", res)
	}
	want := strings.Replace(deployA, "nginx:1.25.0", "nginx:1.27.1", 1)
	if got := r.show(t, "main", "apps/a.yaml"); got != want {
		t.Errorf("apps/a.yaml =\n%s\nwant only the marked value changed:\n%s", got, want)
	}
	if got := r.show(t, "main", "other/a.yaml"); got != deployA {
		t.Errorf("a file outside update.path changed:\n%s", got)
	}
	log := r.wd.Git(t, "log", "-1", "--format=%H%n%an <%ae>%n%B", "origin/main")
	wantLog := res.Commit + "\nFlotilla <flotilla@example.com>\nUpdate images\n\n- docker.io/library/nginx:1.25.0 -> docker.io/library/nginx:1.27.1"
	if log != wantLog {
		t.Errorf("commit =\n%s\nwant\n%s", log, wantLog)
	}
	if !strings.HasPrefix(res.BaseRevision, "main@sha1:") {
		t.Errorf("base revision = %q", res.BaseRevision)
	}

	again := write(t, gitwrite.NewWriter(), request(srv.RepoURL("fleet"), creds, nginx))
	if again.Commit != "" {
		t.Errorf("a second write with the same choice committed %s", again.Commit)
	}
}

func TestWriteOverSSH(t *testing.T) {
	r := newRepo(t)
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, r.root, pub)
	creds := git.Credentials{Identity: key, KnownHosts: srv.KnownHosts()}
	res := write(t, gitwrite.NewWriter(), request(srv.RepoURL("fleet"), creds, nginx))
	if got := r.head(t, "main"); res.Commit == "" || got != res.Commit {
		t.Fatalf("remote main = %s, pushed %q", got, res.Commit)
	}
}

func TestWrongCredentialsNeverShowInTheError(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root, gitserver.WithBasicAuth("fleet", "right-password"))
	url := strings.Replace(srv.RepoURL("fleet"), "http://", "http://fleet:url-password-456@", 1)
	_, err := gitwrite.NewWriter().Write(context.Background(), request(url, git.Credentials{Username: "fleet", Password: "wrong-password-789"}, nginx))
	if !errors.Is(err, git.ErrAuthentication) {
		t.Fatalf("error = %v, want ErrAuthentication", err)
	}
	for _, secret := range []string{"wrong-password-789", "url-password-456"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a credential: %v", err)
		}
	}
}

// TestTwoClustersPushingAtOnceBothLand lines up two writers (two agents,
// each with its own Writer, like two clusters) so that both push the same
// moment from the same base: one push is rejected, that writer fetches the
// new head, runs the setters again and pushes again; both changes land.
func TestTwoClustersPushingAtOnceBothLand(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	var arrived sync.WaitGroup
	arrived.Add(2)
	var firstAttempts atomic.Int32
	lineUp := func(attempt int) {
		if attempt == 1 && firstAttempts.Add(1) <= 2 {
			arrived.Done()
			arrived.Wait() // both have committed on the same base
		}
	}
	reqs := []gitwrite.Request{
		request(srv.RepoURL("fleet"), git.Credentials{}, nginx),
		request(srv.RepoURL("fleet"), git.Credentials{}, setters.Policies{"apps:redis": {Name: "docker.io/library/redis", Tag: "7.2.5"}}),
	}
	results := make([]*gitwrite.Result, 2)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i := range reqs {
		done.Add(1)
		go func() {
			defer done.Done()
			w := gitwrite.NewWriter(gitwrite.WithBeforePush(lineUp), gitwrite.WithBackoff(10*time.Millisecond))
			results[i], errs[i] = w.Write(context.Background(), reqs[i])
		}()
	}
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if got := results[0].Attempts + results[1].Attempts; got < 3 {
		t.Errorf("attempts = %d + %d; one push should have been rejected and retried", results[0].Attempts, results[1].Attempts)
	}
	if got := r.show(t, "main", "apps/a.yaml"); !strings.Contains(got, "nginx:1.27.1") {
		t.Errorf("the nginx change was lost:\n%s", got)
	}
	if got := r.show(t, "main", "apps/b.yaml"); !strings.Contains(got, "redis:7.2.5") {
		t.Errorf("the redis change was lost:\n%s", got)
	}
	if n := r.wd.Git(t, "rev-list", "--count", r.head(t, "main")); n != "3" {
		t.Errorf("main has %s commits, want seed + 2", n)
	}
}

// TestOneWriterSerializesItsGoroutines: two automations in one agent, one
// Writer: the second waits for the first and starts from its commit.
func TestOneWriterSerializesItsGoroutines(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	w := gitwrite.NewWriter()
	var inFlight, maxInFlight atomic.Int32
	track := func(p setters.Policies) gitwrite.EditFunc {
		return func(ctx context.Context, dir string) (*setters.Report, error) {
			maxInFlight.Store(max(maxInFlight.Load(), inFlight.Add(1)))
			defer inFlight.Add(-1)
			time.Sleep(20 * time.Millisecond) // widen the window a second edit would overlap in
			return setters.Apply(ctx, dir, "apps", p)
		}
	}
	var done sync.WaitGroup
	results := make([]*gitwrite.Result, 2)
	for i, p := range []setters.Policies{nginx, {"apps:redis": {Name: "docker.io/library/redis", Tag: "7.2.5"}}} {
		req := request(srv.RepoURL("fleet"), git.Credentials{}, p)
		req.Edit = track(p)
		done.Add(1)
		go func() {
			defer done.Done()
			results[i] = write(t, w, req)
		}()
	}
	done.Wait()
	if maxInFlight.Load() != 1 {
		t.Errorf("%d edits ran at once in one writer, want 1", maxInFlight.Load())
	}
	if results[0].Attempts != 1 || results[1].Attempts != 1 {
		t.Errorf("attempts %d and %d; serialized writes need no retry", results[0].Attempts, results[1].Attempts)
	}
	if n := r.wd.Git(t, "rev-list", "--count", r.head(t, "main")); n != "3" {
		t.Errorf("main has %s commits, want seed + 2", n)
	}
}

func TestPushKeptRejectedNamesTheBranch(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	n := 0
	someoneElse := func(int) { // a person pushes right before each of our pushes
		n++
		r.wd.Git(t, "pull", "-q", "--rebase", "origin", "main")
		r.wd.WriteFile(t, "README.md", fmt.Sprintf("edit %d\n", n))
		r.wd.Commit(t, "a person's edit")
		r.wd.Push(t, "main")
	}
	w := gitwrite.NewWriter(gitwrite.WithBeforePush(someoneElse), gitwrite.WithMaxAttempts(3), gitwrite.WithBackoff(time.Millisecond))
	_, err := w.Write(context.Background(), request(srv.RepoURL("fleet"), git.Credentials{}, nginx))
	if !errors.Is(err, gitwrite.ErrPushRejected) || !strings.Contains(err.Error(), "push to branch main") || !strings.Contains(err.Error(), "3 times") {
		t.Fatalf("error = %v, want ErrPushRejected naming branch main after 3 attempts", err)
	}
	if got := r.show(t, "main", "apps/a.yaml"); got != deployA {
		t.Errorf("a rejected write left a change:\n%s", got)
	}
}

func TestPushBranchAndRefspec(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	req := request(srv.RepoURL("fleet"), git.Credentials{}, nginx)
	req.PushBranch = "auto/images"
	req.Refspec = "+refs/heads/main:refs/heads/mirror"
	res := write(t, gitwrite.NewWriter(), req)
	for _, b := range []string{"auto/images", "mirror"} {
		if got := r.head(t, b); got != res.Commit {
			t.Errorf("%s = %s, want %s", b, got, res.Commit)
		}
	}
	if got := r.show(t, "main", "apps/a.yaml"); got != deployA {
		t.Errorf("main changed although the push branch is another:\n%s", got)
	}
	// The same choice again: the push branch already holds it, nothing is pushed.
	same := write(t, gitwrite.NewWriter(), req)
	if !same.Unchanged || same.Commit != res.Commit {
		t.Errorf("rewrite of an identical change: %+v", same)
	}
	// A later run starts again from main and rewrites the push branch.
	req.Edit = edit(setters.Policies{"apps:nginx": {Name: "docker.io/library/nginx", Tag: "1.28.0"}})
	next := write(t, gitwrite.NewWriter(), req)
	if parent := r.wd.Git(t, "rev-parse", r.head(t, "auto/images")+"^"); next.Commit == "" || parent != r.head(t, "main") {
		t.Errorf("the rewritten push branch's parent is %s, not main", parent)
	}
}

func TestSignedCommit(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	entity, err := openpgp.NewEntity("Flotilla", "", "flotilla@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var priv, pub bytes.Buffer
	wc, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := entity.SerializePrivate(wc, nil); err != nil {
		t.Fatal(err)
	}
	wc.Close()
	wc, _ = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := entity.Serialize(wc); err != nil {
		t.Fatal(err)
	}
	wc.Close()
	key, err := gitwrite.ParseSigningKey(priv.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req := request(srv.RepoURL("fleet"), git.Credentials{}, nginx)
	req.SigningKey = key
	res := write(t, gitwrite.NewWriter(), req)
	bare, err := gogit.PlainOpen(r.root.Path("fleet"))
	if err != nil {
		t.Fatal(err)
	}
	commit, err := bare.CommitObject(plumbing.NewHash(res.Commit))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := commit.Verify(pub.String()); err != nil {
		t.Fatalf("the pushed commit's signature does not verify: %v", err)
	}
	if _, err := gitwrite.ParseSigningKey([]byte("not a key"), nil); !errors.Is(err, gitwrite.ErrSigningKey) {
		t.Errorf("a bad key: %v", err)
	}
}

func TestPushOptionsReachTheServer(t *testing.T) {
	r := newRepo(t)
	bare := r.root.Path("fleet")
	if out, err := exec.Command("git", "-C", bare, "config", "receive.advertisePushOptions", "true").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v: %s", err, out)
	}
	got := filepath.Join(t.TempDir(), "options")
	hook := "#!/bin/sh\ni=0\nwhile [ $i -lt \"${GIT_PUSH_OPTION_COUNT:-0}\" ]; do eval \"echo \\$GIT_PUSH_OPTION_$i\" >> " + got + "; i=$((i+1)); done\n"
	if err := os.WriteFile(filepath.Join(bare, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := gitserver.NewHTTP(t, r.root)
	req := request(srv.RepoURL("fleet"), git.Credentials{}, nginx)
	req.PushOptions = map[string]string{"ci.skip": "true"}
	write(t, gitwrite.NewWriter(), req)
	b, err := os.ReadFile(got)
	if err != nil || string(b) != "ci.skip=true\n" {
		t.Fatalf("push options the server saw: %q, %v", b, err)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
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
			t.Cleanup(func() { c.Close() }) // accept, then say nothing
		}
	}()
	req := request("http://"+ln.Addr().String()+"/fleet.git", git.Credentials{}, nginx)
	req.Timeout = 300 * time.Millisecond
	_, err = gitwrite.NewWriter(gitwrite.WithWorkDir(t.TempDir())).Write(context.Background(), req)
	if !errors.Is(err, git.ErrUnreachable) || !strings.Contains(err.Error(), "fetch branch main") {
		t.Fatalf("error = %v, want ErrUnreachable naming the fetch", err)
	}
}

// TestKeptCloneFollowsTheBranch: with a work directory the clone is kept
// and fetched into; what others pushed meanwhile (a new file, a removed
// one) is the base of the next write.
func TestKeptCloneFollowsTheBranch(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	work := t.TempDir()
	w := gitwrite.NewWriter(gitwrite.WithWorkDir(work))
	write(t, w, request(srv.RepoURL("fleet"), git.Credentials{}, nginx))

	r.wd.Git(t, "pull", "-q", "--rebase", "origin", "main")
	r.wd.Remove(t, "other/a.yaml")
	r.wd.WriteFile(t, "apps/c.yaml", strings.Replace(deployB, "name: b", "name: c", 1))
	r.wd.Commit(t, "a person's edit")
	r.wd.Push(t, "main")

	res := write(t, w, request(srv.RepoURL("fleet"), git.Credentials{}, setters.Policies{"apps:redis": {Name: "docker.io/library/redis", Tag: "7.2.5"}}))
	if got := len(res.Report.Result.FileChanges); got != 2 {
		t.Errorf("changed %d files, want apps/b.yaml and the new apps/c.yaml", got)
	}
	files := r.wd.Git(t, "ls-tree", "-r", "--name-only", r.head(t, "main"))
	if files != "apps/a.yaml\napps/b.yaml\napps/c.yaml" {
		t.Errorf("files on main:\n%s", files)
	}
	if got := r.show(t, "main", "apps/a.yaml"); !strings.Contains(got, "nginx:1.27.1") {
		t.Errorf("the first write was lost:\n%s", got)
	}
	entries, err := os.ReadDir(work)
	if err != nil || len(entries) != 1 {
		t.Errorf("work directory holds %d entries, want one kept clone: %v", len(entries), err)
	}
}

func TestEncryptedSigningKeyNeedsItsPassphrase(t *testing.T) {
	entity, err := openpgp.NewEntity("Flotilla", "", "flotilla@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := entity.EncryptPrivateKeys([]byte("right-passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	var priv bytes.Buffer
	wc, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := entity.SerializePrivateWithoutSigning(wc, nil); err != nil {
		t.Fatal(err)
	}
	wc.Close()
	_, err = gitwrite.ParseSigningKey(priv.Bytes(), []byte("wrong-passphrase"))
	if !errors.Is(err, gitwrite.ErrSigningKey) || strings.Contains(err.Error(), "wrong-passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	key, err := gitwrite.ParseSigningKey(priv.Bytes(), []byte("right-passphrase"))
	if err != nil || key.PrivateKey.Encrypted {
		t.Fatalf("right passphrase: %v", err)
	}
}
