package bootstrap

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh/knownhosts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	sourcegit "github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestSecretHoldsWhatTheAgentReads writes the Secret bootstrap stores and
// reads it back as the agent's GitRepository controller does.
func TestSecretHoldsWhatTheAgentReads(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want sourcegit.Credentials
	}{
		{"http user and password", Options{Username: "fleet-bot", Password: "pw"},
			sourcegit.Credentials{Username: "fleet-bot", Password: "pw"}},
		{"http token alone", Options{Password: "token"}, sourcegit.Credentials{Password: "token"}},
		{"ssh key and known hosts", Options{PrivateKey: []byte("KEY"), KnownHosts: []byte("host ssh-ed25519 AAAA\n")},
			sourcegit.Credentials{Identity: []byte("KEY"), KnownHosts: []byte("host ssh-ed25519 AAAA\n")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.SecretName, tc.opts.Install.Namespace = "fleet-git", "flotilla-system"
			u, err := tc.opts.secret()
			if err != nil {
				t.Fatal(err)
			}
			var secret corev1.Secret
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &secret); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, sourcegit.CredentialsFromSecret(secret.Data)); diff != "" {
				t.Errorf("credentials read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthNamesTheFlagOfAnUnusableKey(t *testing.T) {
	o := Options{URL: "ssh://git@127.0.0.1:2222/fleet.git", PrivateKey: []byte("not a key"), KnownHosts: []byte("[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")}
	_, err := o.auth()
	if err == nil || !strings.Contains(err.Error(), "--private-key-file") || !errors.Is(err, sourcegit.ErrInvalidCredentials) {
		t.Errorf("auth = %v, want ErrInvalidCredentials naming --private-key-file", err)
	}
}

// seed makes a bare repository "fleet" with one commit on main.
func seed(t *testing.T) (*gitserver.Root, string) {
	t.Helper()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	wd.WriteFile(t, "clusters/prod/kustomization.yaml", "resources: []\n")
	sha := wd.Commit(t, "seed")
	wd.Push(t, "main")
	return root, sha
}

// cloneWith clones main of o.URL with o's credentials, as Run does.
func cloneWith(t *testing.T, o Options) (*checkout, error) {
	t.Helper()
	o.Branch = "main"
	auth, err := o.auth()
	if err != nil {
		return nil, err
	}
	return o.clone(context.Background(), filepath.Join(t.TempDir(), "repo"), auth)
}

func TestCloneOverHTTPWithBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: runs git http-backend")
	}
	root, sha := seed(t)
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth("fleet-bot", "right-password"))
	co, err := cloneWith(t, Options{URL: srv.RepoURL("fleet"), Username: "fleet-bot", Password: "right-password"})
	if err != nil {
		t.Fatal(err)
	}
	if co.head() != sha {
		t.Errorf("head %s, want %s", co.head(), sha)
	}
	if _, err := cloneWith(t, Options{URL: srv.RepoURL("fleet"), Username: "fleet-bot", Password: "wrong-password"}); err == nil {
		t.Error("a wrong password cloned")
	}
}

func TestCloneOverSSHChecksTheHostKey(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: runs an ssh server and git upload-pack")
	}
	root, sha := seed(t)
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, root, pub)
	co, err := cloneWith(t, Options{URL: srv.RepoURL("fleet"), PrivateKey: key, KnownHosts: srv.KnownHosts()})
	if err != nil {
		t.Fatal(err)
	}
	if co.head() != sha {
		t.Errorf("head %s, want %s", co.head(), sha)
	}
	// known_hosts pins another key for the server's address: refused.
	_, otherPub := gitserver.NewClientKey(t)
	wrong := []byte(knownhosts.Line([]string{knownhosts.Normalize(srv.Addr())}, otherPub) + "\n")
	if _, err := cloneWith(t, Options{URL: srv.RepoURL("fleet"), PrivateKey: key, KnownHosts: wrong}); err == nil {
		t.Error("a server whose host key known_hosts does not hold was cloned from")
	}
	// An unauthorized client key: refused.
	otherKey, _ := gitserver.NewClientKey(t)
	if _, err := cloneWith(t, Options{URL: srv.RepoURL("fleet"), PrivateKey: otherKey, KnownHosts: srv.KnownHosts()}); err == nil {
		t.Error("an unauthorized key cloned")
	}
}

func TestScanHostKeyReadsTheServersKey(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: runs an ssh server")
	}
	root, _ := seed(t)
	_, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, root, pub)
	line, fp, err := scanHostKey(context.Background(), srv.RepoURL("fleet"))
	if err != nil {
		t.Fatal(err)
	}
	if string(line) != string(srv.KnownHosts()) || !strings.HasPrefix(fp, "SHA256:") {
		t.Errorf("scanned %q (%s), want %q", line, fp, srv.KnownHosts())
	}
}
