package gitserve

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshFixture is an SSH server for a root holding the seeded repository
// "fleet", and a client key it accepts.
type sshFixture struct {
	root   *Root
	srv    *SSHServer
	head   string
	signer ssh.Signer
	keyPEM []byte
}

func newSSHFixture(t *testing.T) *sshFixture {
	t.Helper()
	root, err := NewRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, head, err := root.Seed("fleet", t.TempDir(), map[string]string{"apps/app.yaml": "kind: ConfigMap\n"}, "seed")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, pub, err := NewClientKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatalf("NewClientKey's private key does not parse: %v", err)
	}
	srv, err := StartSSH(root, pub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &sshFixture{root: root, srv: srv, head: head, signer: signer, keyPEM: keyPEM}
}

// dial connects with signer, checking the server's host key.
func (f *sshFixture) dial(signer ssh.Signer) (*ssh.Client, error) {
	return ssh.Dial("tcp", f.srv.Addr(), &ssh.ClientConfig{
		User:            "git",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(f.srv.HostKey()),
	})
}

// execResult is what one exec request produced.
type execResult struct {
	stdout, stderr string
	status         int
}

// session opens a session as the fixture's client; both end with the test.
func (f *sshFixture) session(t *testing.T) *ssh.Session {
	t.Helper()
	c, err := f.dial(f.signer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// exec runs command in a new session with env set first and stdin as the
// client's input, then returns its output and exit status.
func (f *sshFixture) exec(t *testing.T, env map[string]string, stdin, command string) execResult {
	t.Helper()
	sess := f.session(t)
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatalf("setenv %s: %v", k, err)
		}
	}
	var stdout, stderr bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader(stdin), &stdout, &stderr
	var res execResult
	if err := sess.Run(command); err != nil {
		var exitErr *ssh.ExitError
		if !errors.As(err, &exitErr) {
			t.Fatalf("exec %q: %v (stderr %q)", command, err, stderr.String())
		}
		res.status = exitErr.ExitStatus()
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// flush is the pkt-line flush packet: a client that wants nothing after
// the ref advertisement sends it and upload-pack exits cleanly.
const flush = "0000"

func TestSSHServerAdvertisesRefsToAnAuthorizedKey(t *testing.T) {
	f := newSSHFixture(t)
	for _, command := range []string{
		"git-upload-pack '/fleet.git'",
		"git-upload-pack 'fleet.git'",
		"git-upload-pack 'fleet'",
		"git upload-pack '/fleet.git'",
	} {
		t.Run(command, func(t *testing.T) {
			res := f.exec(t, nil, flush, command)
			if res.status != 0 {
				t.Fatalf("exit status %d, stderr %q", res.status, res.stderr)
			}
			if !strings.Contains(res.stdout, f.head+" refs/heads/main") {
				t.Errorf("advertisement %q does not name main at %s", res.stdout, f.head)
			}
		})
	}
}

func TestSSHServerPassesGitProtocolOnly(t *testing.T) {
	f := newSSHFixture(t)
	res := f.exec(t, map[string]string{"GIT_PROTOCOL": "version=2"}, flush, "git-upload-pack '/fleet.git'")
	if res.status != 0 {
		t.Fatalf("exit status %d, stderr %q", res.status, res.stderr)
	}
	// Protocol v2 opens with a capability advertisement, not the refs.
	if !strings.HasPrefix(res.stdout, "000eversion 2\n") {
		t.Errorf("stdout = %q, want a protocol v2 capability advertisement", res.stdout)
	}

	sess := f.session(t)
	if err := sess.Setenv("GIT_DIR", "/etc"); err == nil {
		t.Error("the server accepted env GIT_DIR: only GIT_PROTOCOL may reach git")
	}
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err == nil {
		t.Error("the server granted a pty: only env and exec are served")
	}
}

func TestSSHServerRefusesCommandsOutsideGit(t *testing.T) {
	f := newSSHFixture(t)
	if err := os.Mkdir(filepath.Join(f.root.Dir, "plain"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, command, wantStderr string
	}{
		{"a shell command", "cat /etc/passwd", `fatal: unsupported command "cat /etc/passwd"`},
		{"git's archive service", "git-upload-archive '/fleet.git'", "unsupported command"},
		{"a service without a repository", "git-upload-pack", "missing repository"},
		{"a path escaping the root", "git-upload-pack '../fleet.git'", "escapes the root"},
		{"a repository that does not exist", "git-receive-pack '/missing.git'", `repository "/missing.git" not found`},
		{"an unquoted path with a space", "git-upload-pack a b", "bad quoting"},
		{"a directory that is not a repository", "git-upload-pack '/plain'", "not appear to be a git repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.exec(t, nil, "", tc.command)
			if res.status == 0 {
				t.Errorf("exit status 0, want a failure")
			}
			if !strings.Contains(res.stderr, tc.wantStderr) {
				t.Errorf("stderr = %q, want it to hold %q", res.stderr, tc.wantStderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing", res.stdout)
			}
		})
	}
}

func TestSSHServerRefusesAnUnknownKey(t *testing.T) {
	f := newSSHFixture(t)
	otherPEM, _, err := NewClientKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.ParsePrivateKey(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.dial(other); err == nil {
		c.Close()
		t.Fatal("a key that is not authorized logged in")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("err = %v, want an authentication failure", err)
	}
}

func TestStartSSHWithoutKeysAcceptsNone(t *testing.T) {
	root, err := NewRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartSSH(root)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	keyPEM, _, err := NewClientKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	f := &sshFixture{srv: srv}
	if c, err := f.dial(signer); err == nil {
		c.Close()
		t.Error("a server started without authorized keys let a client in")
	}
}

func TestAuthorizedKeysComparesTheWholeKey(t *testing.T) {
	_, a, err := NewClientKey()
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := NewClientKey()
	if err != nil {
		t.Fatal(err)
	}
	check := authorizedKeys([]ssh.PublicKey{a})
	if perms, err := check(nil, a); err != nil || perms == nil {
		t.Errorf("the authorized key: permissions %v, err %v; want accepted", perms, err)
	}
	if perms, err := check(nil, b); err == nil || perms != nil {
		t.Errorf("another key: permissions %v, err %v; want refused", perms, err)
	}
	if _, err := authorizedKeys(nil)(nil, a); err == nil {
		t.Error("an empty key list accepted a key")
	}
}

func TestSSHServerOpensSessionChannelsOnly(t *testing.T) {
	f := newSSHFixture(t)
	c, err := f.dial(f.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.OpenChannel("direct-tcpip", nil)
	var openErr *ssh.OpenChannelError
	if !errors.As(err, &openErr) || openErr.Reason != ssh.UnknownChannelType {
		t.Errorf("opening a direct-tcpip channel: %v, want an unknown channel type rejection", err)
	}
}

func TestSSHServerKnownHostsAndURLs(t *testing.T) {
	f := newSSHFixture(t)
	if !strings.HasPrefix(f.srv.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want loopback", f.srv.Addr())
	}
	if got, want := f.srv.RepoURL("fleet"), "ssh://git@"+f.srv.Addr()+"/fleet.git"; got != want {
		t.Errorf("RepoURL = %q, want %q", got, want)
	}
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, f.srv.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	check, err := knownhosts.New(file)
	if err != nil {
		t.Fatalf("KnownHosts %q does not parse: %v", f.srv.KnownHosts(), err)
	}
	c, err := ssh.Dial("tcp", f.srv.Addr(), &ssh.ClientConfig{
		User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(f.signer)}, HostKeyCallback: check,
	})
	if err != nil {
		t.Fatalf("dialling with the KnownHosts line: %v", err)
	}
	c.Close()

	_, otherPub, err := NewClientKey()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ssh.Dial("tcp", f.srv.Addr(), &ssh.ClientConfig{
		User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(f.signer)}, HostKeyCallback: ssh.FixedHostKey(otherPub),
	})
	if err == nil {
		t.Error("a client expecting another host key connected")
	}
}

// sshGitEnv makes the git CLI use the ssh CLI with only the fixture's key
// and host key, and none of the user's configuration.
func (f *sshFixture) sshGitEnv(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	key, hosts := filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(key, f.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hosts, f.srv.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"GIT_SSH_COMMAND=ssh -F /dev/null -i " + key + " -o IdentitiesOnly=yes -o IdentityAgent=none" +
		" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=" + hosts}
}

func TestSSHServerServesTheGitCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test runs the ssh and git CLIs")
	}
	f := newSSHFixture(t)
	env := f.sshGitEnv(t)
	clone := filepath.Join(t.TempDir(), "clone")
	if _, err := Git(t.TempDir(), t.TempDir(), env, "clone", "--quiet", f.srv.RepoURL("fleet"), clone); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(clone, "apps/app.yaml")); err != nil || string(got) != "kind: ConfigMap\n" {
		t.Errorf("cloned apps/app.yaml = %q, %v", got, err)
	}
	home := t.TempDir()
	for _, args := range [][]string{
		{"-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "--allow-empty", "-m", "over ssh"},
		{"push", "--quiet", "origin", "main"},
	} {
		if _, err := Git(clone, home, env, args...); err != nil {
			t.Fatal(err)
		}
	}
	pushed, err := Git(clone, home, nil, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Git(f.root.Path("fleet"), t.TempDir(), nil, "rev-parse", "main"); err != nil || got != pushed {
		t.Errorf("main on the server = %q, %v; want the pushed %s", got, err, pushed)
	}
}

func TestSSHServerCloseIsFinalAndIdempotent(t *testing.T) {
	f := newSSHFixture(t)
	idle, err := f.dial(f.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	home := f.srv.home
	f.srv.Close()
	f.srv.Close()
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("the server's git HOME %s is still there after Close: %v", home, err)
	}
	if c, err := f.dial(f.signer); err == nil {
		c.Close()
		t.Error("a new connection succeeded after Close")
	}
	if err := idle.Wait(); err == nil {
		t.Error("a connection open before Close ended without an error: want it dropped")
	}
}
