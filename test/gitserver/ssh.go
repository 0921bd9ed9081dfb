package gitserver

import (
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// SSHServer serves a Root over SSH with public-key authentication, running
// the real git upload-pack / receive-pack; see gitserve.SSHServer.
type SSHServer = gitserve.SSHServer

// NewSSH starts an SSH Git server for root on 127.0.0.1 with a fresh
// ed25519 host key, accepting only the authorized public keys. It is closed
// by t.Cleanup.
func NewSSH(t testing.TB, root *Root, authorized ...ssh.PublicKey) *SSHServer {
	t.Helper()
	s, err := gitserve.StartSSH(root.kit(), authorized...)
	must(t, err)
	t.Cleanup(s.Close)
	return s
}

// NewClientKey returns a fresh ed25519 key pair: the private key as OpenSSH
// PEM and its SSH public key.
func NewClientKey(t testing.TB) (privatePEM []byte, pub ssh.PublicKey) {
	t.Helper()
	key, pub, err := gitserve.NewClientKey()
	must(t, err)
	return key, pub
}
