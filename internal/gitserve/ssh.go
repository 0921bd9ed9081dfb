package gitserve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer serves a Root over SSH with public-key authentication, running
// the real git upload-pack / receive-pack for exec requests.
type SSHServer struct {
	root      *Root
	home      string
	ln        net.Listener
	config    *ssh.ServerConfig
	hostKey   ssh.Signer
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	closeOnce sync.Once
}

// StartSSH starts an SSH Git server for root on a free port of 127.0.0.1
// with a fresh ed25519 host key, accepting only the authorized public keys.
// Close stops it.
func StartSSH(root *Root, authorized ...ssh.PublicKey) (*SSHServer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp("", "flotilla-gitserve-ssh-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, joinRemove(fmt.Errorf("git server: listening for ssh: %w", err), home)
	}
	s := &SSHServer{root: root, home: home, ln: ln, hostKey: signer,
		conns: map[net.Conn]struct{}{}}
	s.config = &ssh.ServerConfig{PublicKeyCallback: authorizedKeys(authorized)}
	s.config.AddHostKey(signer)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// authorizedKeys returns a PublicKeyCallback accepting exactly keys.
func authorizedKeys(keys []ssh.PublicKey) func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
	return func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return &ssh.Permissions{}, nil
			}
		}
		return nil, errors.New("gitserver: unauthorized public key")
	}
}

// Addr returns the listen address, 127.0.0.1:PORT.
func (s *SSHServer) Addr() string { return s.ln.Addr().String() }

// RepoURL returns the ssh:// URL of repository name.
func (s *SSHServer) RepoURL(name string) string {
	return "ssh://git@" + s.Addr() + "/" + name + ".git"
}

// HostKey returns the server's public host key.
func (s *SSHServer) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// KnownHosts returns a known_hosts line for "[127.0.0.1]:PORT".
func (s *SSHServer) KnownHosts() []byte {
	host := knownhosts.Normalize(s.Addr())
	return []byte(knownhosts.Line([]string{host}, s.HostKey()) + "\n")
}

// Close stops accepting connections, drops open ones and kills running git
// processes. It is idempotent.
func (s *SSHServer) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		_ = s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		_ = os.RemoveAll(s.home)
	})
}

// serve accepts connections until the listener is closed.
func (s *SSHServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			_ = c.Close()
			return
		}
		s.wg.Add(1)
		go s.handleConn(c)
	}
}

// track records c as open; it reports false once the server is closing.
func (s *SSHServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// handleConn runs the SSH handshake and serves session channels.
func (s *SSHServer) handleConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go s.handleSession(ch, chReqs)
	}
}

// handleSession serves one session: env (GIT_PROTOCOL only) and one exec.
func (s *SSHServer) handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer s.wg.Done()
	defer ch.Close()
	var protocol string
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			ok := ssh.Unmarshal(req.Payload, &kv) == nil && kv.Name == "GIT_PROTOCOL"
			if ok {
				protocol = kv.Value
			}
			_ = req.Reply(ok, nil)
		case "exec":
			var cmd struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &cmd); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			s.exec(ch, cmd.Command, protocol)
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// exec runs the git service named by command on ch and sends exit-status.
func (s *SSHServer) exec(ch ssh.Channel, command, protocol string) {
	status := uint32(0)
	if err := s.runService(ch, command, protocol); err != nil {
		fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
		status = 128
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() > 0 {
			status = uint32(exitErr.ExitCode())
		}
	}
	_ = ch.CloseWrite()
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
}

// runService parses command, resolves its repository and runs git with the
// channel as stdin/stdout.
func (s *SSHServer) runService(ch ssh.Channel, command, protocol string) error {
	service, arg, err := parseCommand(command)
	if err != nil {
		return err
	}
	dir, err := s.root.resolve(arg)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(s.ctx, "git", service, dir)
	cmd.Env = env(s.home)
	if protocol != "" {
		cmd.Env = append(cmd.Env, "GIT_PROTOCOL="+protocol)
	}
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	return cmd.Wait()
}

// parseCommand splits an SSH exec command such as
// "git-upload-pack '/name.git'" into the git subcommand and its path.
func parseCommand(command string) (service, path string, err error) {
	verb, arg, ok := strings.Cut(strings.TrimSpace(command), " ")
	if verb == "git" {
		verb, arg, ok = strings.Cut(strings.TrimSpace(arg), " ")
		verb = "git-" + verb
	}
	switch verb {
	case "git-upload-pack", "git-receive-pack":
	default:
		return "", "", fmt.Errorf("unsupported command %q", command)
	}
	if !ok {
		return "", "", fmt.Errorf("missing repository in %q", command)
	}
	path, err = sqDequote(strings.TrimSpace(arg))
	return strings.TrimPrefix(verb, "git-"), path, err
}

// sqDequote undoes git's shell single-quoting, in which a quote inside the
// argument is written as quote, backslash, quote, quote. An argument without
// quotes is returned as is.
func sqDequote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		if strings.ContainsAny(s, "'\\ \t\n") {
			return "", fmt.Errorf("bad quoting in %q", s)
		}
		return s, nil
	}
	var b strings.Builder
	rest := s
	for {
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return "", fmt.Errorf("unterminated quote in %q", s)
		}
		b.WriteString(rest[1 : 1+end])
		rest = rest[end+2:]
		if rest == "" {
			return b.String(), nil
		}
		if len(rest) < 3 || rest[0] != '\\' || rest[2] != '\'' {
			return "", fmt.Errorf("bad quoting in %q", s)
		}
		b.WriteByte(rest[1])
		rest = rest[2:]
	}
}

// NewClientKey returns a fresh ed25519 key pair: the private key as OpenSSH
// PEM and its SSH public key.
func NewClientKey() (privatePEM []byte, pub ssh.PublicKey, err error) {
	pk, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, nil, err
	}
	pub, err = ssh.NewPublicKey(pk)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(block), pub, nil
}
