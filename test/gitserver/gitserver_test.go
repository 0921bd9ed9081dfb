package gitserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// seed creates bare repo name in root with one commit on main and returns
// the workdir used and the commit SHA.
func seed(t *testing.T, root *Root, name string) (*Workdir, string) {
	t.Helper()
	root.InitBare(t, name)
	w := NewWorkdir(t, root.Path(name))
	w.WriteFile(t, "deploy/app.yaml", "kind: ConfigMap\n")
	sha := w.Commit(t, "initial")
	w.Push(t, "main")
	return w, sha
}

// clone clones url into a fresh directory with extra env and git -c
// options, returning the directory.
func clone(t *testing.T, url string, env []string, gitArgs ...string) (string, error) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "clone")
	args := append(append([]string{}, gitArgs...), "clone", "--quiet", url, dst)
	_, err := runGit(t.TempDir(), t.TempDir(), env, args...)
	return dst, err
}

// mustClone is clone that fails the test on error and checks HEAD is want.
func mustClone(t *testing.T, url, want string, env []string, gitArgs ...string) string {
	t.Helper()
	dst, err := clone(t, url, env, gitArgs...)
	if err != nil {
		t.Fatalf("clone %s: %v", url, err)
	}
	if got := mustGit(t, dst, t.TempDir(), "rev-parse", "HEAD"); got != want {
		t.Fatalf("clone %s: HEAD = %s, want %s", url, got, want)
	}
	return dst
}

// remoteRef returns the SHA of ref in the bare repository at path, or "".
func remoteRef(t *testing.T, path, ref string) string {
	t.Helper()
	out := mustGit(t, path, t.TempDir(), "for-each-ref", "--format=%(objectname)", ref)
	return out
}

// writeFile writes data to a new file in a temp dir and returns its path.
func writeFile(t *testing.T, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWorkdirAgainstFileRemote(t *testing.T) {
	root := NewRoot(t)
	w, first := seed(t, root, "repo")
	bare := root.Path("repo")
	if got := remoteRef(t, bare, "refs/heads/main"); got != first {
		t.Fatalf("main = %q, want %q", got, first)
	}
	if len(first) != 40 {
		t.Fatalf("Commit returned %q, want a full SHA", first)
	}

	w.Symlink(t, "app.yaml", "deploy/link.yaml")
	w.Tag(t, "v1", true)
	w.Tag(t, "light", false)
	w.Push(t, "--tags")
	if got := mustGit(t, bare, t.TempDir(), "cat-file", "-t", "refs/tags/v1"); got != "tag" {
		t.Fatalf("v1 type = %q, want annotated tag", got)
	}
	if got := remoteRef(t, bare, "refs/tags/light"); got != first {
		t.Fatalf("light = %q, want %q", got, first)
	}

	w.Checkout(t, "feature", true)
	w.Remove(t, "deploy/app.yaml")
	second := w.Commit(t, "feature")
	w.Push(t, "feature")
	if got := remoteRef(t, bare, "refs/heads/feature"); got != second {
		t.Fatalf("feature = %q, want %q", got, second)
	}
	w.DeleteRemoteBranch(t, "feature")
	if got := remoteRef(t, bare, "refs/heads/feature"); got != "" {
		t.Fatalf("feature still on remote: %q", got)
	}

	w.Checkout(t, "main", false)
	third := w.Commit(t, "third")
	w.Push(t, "main")
	w.ResetHard(t, first)
	w.Push(t, "+main")
	if got := remoteRef(t, bare, "refs/heads/main"); got != first || got == third {
		t.Fatalf("after force push main = %q, want %q", got, first)
	}

	dst := mustClone(t, root.FileURL("repo"), first, nil)
	if target, err := os.Readlink(filepath.Join(dst, "deploy/link.yaml")); err == nil {
		t.Fatalf("symlink from later commit present after reset: %q", target)
	}
}

func TestHTTPCloneAndPush(t *testing.T) {
	root := NewRoot(t)
	_, sha := seed(t, root, "repo")
	srv := NewHTTP(t, root)
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q", srv.URL())
	}
	if got, want := srv.RepoURL("repo"), srv.URL()+"/repo.git"; got != want {
		t.Fatalf("RepoURL = %q, want %q", got, want)
	}
	if srv.CACert() != nil {
		t.Fatal("CACert() without TLS must be nil")
	}

	dst := mustClone(t, srv.RepoURL("repo"), sha, nil)
	data, err := os.ReadFile(filepath.Join(dst, "deploy/app.yaml"))
	if err != nil || string(data) != "kind: ConfigMap\n" {
		t.Fatalf("cloned file = %q, %v", data, err)
	}
	if srv.Requests() == 0 {
		t.Fatal("Requests() = 0 after a clone")
	}
	if _, err := clone(t, srv.URL()+"/missing.git", nil); err == nil {
		t.Fatal("clone of a missing repository succeeded")
	}

	// Push through the server, large enough to use a chunked request body.
	w := NewWorkdir(t, srv.RepoURL("repo"))
	w.Git(t, "fetch", "--quiet", "origin")
	w.ResetHard(t, "origin/main")
	big := make([]byte, 3<<20)
	_, _ = rand.Read(big)
	w.WriteFile(t, "big.bin", hex.EncodeToString(big))
	pushed := w.Commit(t, "big")
	w.Push(t, "main")
	if got := remoteRef(t, root.Path("repo"), "refs/heads/main"); got != pushed {
		t.Fatalf("main after HTTP push = %q, want %q", got, pushed)
	}
}

func TestHTTPBasicAuth(t *testing.T) {
	root := NewRoot(t)
	_, sha := seed(t, root, "repo")
	srv := NewHTTP(t, root, WithBasicAuth("alice", "s3cret"))
	host := strings.TrimPrefix(srv.URL(), "http://")

	mustClone(t, "http://alice:s3cret@"+host+"/repo.git", sha, nil)
	if _, err := clone(t, srv.RepoURL("repo"), nil); err == nil {
		t.Fatal("clone without credentials succeeded")
	}
	if _, err := clone(t, "http://alice:wrong@"+host+"/repo.git", nil); err == nil {
		t.Fatal("clone with a wrong password succeeded")
	}
	if _, err := clone(t, "http://bob:s3cret@"+host+"/repo.git", nil); err == nil {
		t.Fatal("clone with a wrong user succeeded")
	}

	resp, err := http.Get(srv.RepoURL("repo") + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("unauthenticated request: %d, WWW-Authenticate=%q",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestHTTPSWithCA(t *testing.T) {
	root := NewRoot(t)
	_, sha := seed(t, root, "repo")
	srv := NewHTTP(t, root, WithTLS(), WithBasicAuth("u", "p"))
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL() = %q", srv.URL())
	}
	ca := srv.CACert()
	if !bytes.HasPrefix(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("CACert() = %q", ca)
	}
	caFile := writeFile(t, "ca.pem", ca, 0o644)
	url := "https://u:p@" + strings.TrimPrefix(srv.URL(), "https://") + "/repo.git"

	mustClone(t, url, sha, nil, "-c", "http.sslCAInfo="+caFile)
	if _, err := clone(t, url, nil); err == nil {
		t.Fatal("HTTPS clone without the CA succeeded")
	}
}

func TestHTTPClose(t *testing.T) {
	root := NewRoot(t)
	_, sha := seed(t, root, "repo")
	srv := NewHTTP(t, root)
	mustClone(t, srv.RepoURL("repo"), sha, nil)
	srv.Close()
	srv.Close() // idempotent
	if _, err := clone(t, srv.RepoURL("repo"), nil); err == nil {
		t.Fatal("clone after Close succeeded")
	}
	if c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://")); err == nil {
		_ = c.Close()
		t.Fatal("connection accepted after Close")
	}
}

// sshEnv returns the GIT_SSH_COMMAND environment for the OpenSSH client,
// skipping the test when no ssh binary is available.
func sshEnv(t *testing.T, srv *SSHServer, key []byte) []string {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("cannot run: no ssh client binary (install openssh-client; .ci/run does)")
	}
	keyFile := writeFile(t, "id_ed25519", key, 0o600)
	khFile := writeFile(t, "known_hosts", srv.KnownHosts(), 0o644)
	_, port, _ := net.SplitHostPort(srv.Addr())
	cmd := "ssh -F /dev/null -i '" + keyFile + "' -o IdentitiesOnly=yes -o BatchMode=yes" +
		" -o UserKnownHostsFile='" + khFile + "' -o GlobalKnownHostsFile=/dev/null" +
		" -o StrictHostKeyChecking=yes -p " + port
	return []string{"GIT_SSH_COMMAND=" + cmd}
}

func TestSSHWithOpenSSH(t *testing.T) {
	root := NewRoot(t)
	_, sha := seed(t, root, "repo")
	key, pub := NewClientKey(t)
	srv := NewSSH(t, root, pub)
	env := sshEnv(t, srv, key)
	if got, want := srv.RepoURL("repo"), "ssh://git@"+srv.Addr()+"/repo.git"; got != want {
		t.Fatalf("RepoURL = %q, want %q", got, want)
	}

	dst := mustClone(t, srv.RepoURL("repo"), sha, env)
	home := t.TempDir()
	for _, kv := range [][]string{
		{"config", "user.name", "t"}, {"config", "user.email", "t@example.invalid"},
		{"commit", "--quiet", "--allow-empty", "-m", "over ssh"},
	} {
		if _, err := runGit(dst, home, env, kv...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runGit(dst, home, env, "push", "--quiet", "origin", "main"); err != nil {
		t.Fatal(err)
	}
	want := mustGit(t, dst, home, "rev-parse", "HEAD")
	if got := remoteRef(t, root.Path("repo"), "refs/heads/main"); got != want {
		t.Fatalf("main after SSH push = %q, want %q", got, want)
	}

	otherKey, _ := NewClientKey(t)
	if _, err := clone(t, srv.RepoURL("repo"), sshEnv(t, srv, otherKey)); err == nil {
		t.Fatal("clone with an unauthorized key succeeded")
	}
	if _, err := clone(t, "ssh://git@"+srv.Addr()+"/../escape.git", env); err == nil {
		t.Fatal("clone of a path outside the root succeeded")
	}

	srv.Close()
	srv.Close() // idempotent
	if _, err := clone(t, srv.RepoURL("repo"), env); err == nil {
		t.Fatal("clone after Close succeeded")
	}
}

// goGitAuth returns go-git public-key auth that verifies the host key
// against srv.KnownHosts().
func goGitAuth(t *testing.T, srv *SSHServer, key []byte) *gitssh.PublicKeys {
	t.Helper()
	auth, err := gitssh.NewPublicKeys("git", key, "")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(writeFile(t, "known_hosts", srv.KnownHosts(), 0o644))
	if err != nil {
		t.Fatal(err)
	}
	auth.HostKeyCallback = cb
	return auth
}

func TestSSHWithGoGit(t *testing.T) {
	root := NewRoot(t)
	_, sha := seed(t, root, "repo")
	key, pub := NewClientKey(t)
	srv := NewSSH(t, root, pub)

	repo, err := git.PlainClone(t.TempDir(), false, &git.CloneOptions{
		URL: srv.RepoURL("repo"), Auth: goGitAuth(t, srv, key)})
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil || head.Hash().String() != sha {
		t.Fatalf("go-git HEAD = %v, %v; want %s", head, err, sha)
	}

	otherKey, _ := NewClientKey(t)
	_, err = git.PlainClone(t.TempDir(), false, &git.CloneOptions{
		URL: srv.RepoURL("repo"), Auth: goGitAuth(t, srv, otherKey)})
	if err == nil {
		t.Fatal("go-git clone with an unauthorized key succeeded")
	}

	srv.Close()
	_, err = git.PlainClone(t.TempDir(), false, &git.CloneOptions{
		URL: srv.RepoURL("repo"), Auth: goGitAuth(t, srv, key)})
	if err == nil {
		t.Fatal("go-git clone after Close succeeded")
	}
}

// sshExec runs command on srv with the Go SSH client, sending a flush-pkt
// as stdin, and returns its exit status (-1 without one) and stderr.
func sshExec(t *testing.T, srv *SSHServer, key []byte, command string) (int, string) {
	t.Helper()
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{
		User:            "git",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	sess.Stdin = strings.NewReader("0000") // flush-pkt: no wants / no updates
	err = sess.Run(command)
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exitErr):
		return exitErr.ExitStatus(), stderr.String()
	}
	return -1, stderr.String() + err.Error()
}

func TestSSHRefusesUnauthorizedKey(t *testing.T) {
	_, pub := NewClientKey(t)
	srv := NewSSH(t, NewRoot(t), pub)
	other, _ := NewClientKey(t)
	signer, err := ssh.ParsePrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{
		User:            "git",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err == nil {
		t.Fatal("SSH handshake with an unauthorized key succeeded")
	}
	_, err = ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{
		User:            "git",
		Auth:            []ssh.AuthMethod{ssh.Password("x")},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err == nil {
		t.Fatal("SSH password authentication succeeded")
	}
}

func TestSSHCommandsAndPaths(t *testing.T) {
	root := NewRoot(t)
	seed(t, root, "repo")
	outside := t.TempDir()
	if _, err := runGit(outside, t.TempDir(), nil, "init", "--quiet", "--bare", "secret.git"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.git"), filepath.Join(root.Dir, "link.git")); err != nil {
		t.Fatal(err)
	}
	key, pub := NewClientKey(t)
	srv := NewSSH(t, root, pub)

	for _, tc := range []struct {
		command string
		refusal string // expected stderr substring; "" means success
	}{
		{"git-upload-pack 'repo.git'", ""},
		{"git-upload-pack '/repo.git'", ""},
		{"git-receive-pack '/repo.git'", ""},
		{"git upload-pack '/repo'", ""},
		{"git-upload-pack '/../repo.git'", "escapes the root"},
		{"git-upload-pack '" + filepath.Join(outside, "secret.git") + "/../../x'", "escapes the root"},
		{"git-upload-pack '/link.git'", "escapes the root"},
		{"git-upload-pack '/missing.git'", "not found"},
		{"git-upload-pack '/repo.git' extra", "bad quoting"},
		{"sh -c id", "unsupported command"},
		{"git-upload-pack", "missing repository"},
	} {
		status, stderr := sshExec(t, srv, key, tc.command)
		switch {
		case tc.refusal == "" && status != 0:
			t.Errorf("%s: status %d (%s), want success", tc.command, status, stderr)
		case tc.refusal != "" && (status == 0 || !strings.Contains(stderr, tc.refusal)):
			t.Errorf("%s: status %d, stderr %q; want refusal %q", tc.command, status, stderr, tc.refusal)
		}
	}
}
