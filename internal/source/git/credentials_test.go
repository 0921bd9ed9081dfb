package git

import (
	"bytes"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestCredentialsFromSecret(t *testing.T) {
	cases := []struct {
		name string
		data map[string][]byte
		want Credentials
	}{
		{
			name: "every key mapped",
			data: map[string][]byte{
				"username":    []byte("alice"),
				"password":    []byte("s3cret"),
				"bearerToken": []byte("tok"),
				"identity":    []byte("-----BEGIN KEY-----"),
				"known_hosts": []byte("host ssh-ed25519 AAAA"),
				"ca.crt":      []byte("-----BEGIN CERTIFICATE-----"),
			},
			want: Credentials{
				Username:    "alice",
				Password:    "s3cret",
				BearerToken: "tok",
				Identity:    []byte("-----BEGIN KEY-----"),
				KnownHosts:  []byte("host ssh-ed25519 AAAA"),
				CABundle:    []byte("-----BEGIN CERTIFICATE-----"),
			},
		},
		{
			name: "unknown keys are ignored",
			data: map[string][]byte{"username": []byte("bob"), "token": []byte("x"), "Password": []byte("y")},
			want: Credentials{Username: "bob"},
		},
		{
			name: "empty secret",
			data: map[string][]byte{},
			want: Credentials{},
		},
		{
			name: "nil data",
			data: nil,
			want: Credentials{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CredentialsFromSecret(tc.data)); diff != "" {
				t.Errorf("CredentialsFromSecret (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretKeyNames(t *testing.T) {
	// These are the Secret keys users write; they are part of the API.
	got := []string{UsernameKey, PasswordKey, BearerTokenKey, IdentityKey, KnownHostsKey, CAFileKey}
	want := []string{"username", "password", "bearerToken", "identity", "known_hosts", "ca.crt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secret keys (-want +got):\n%s", diff)
	}
}

func TestSecretValues(t *testing.T) {
	c := Credentials{Username: "alice", Password: "pw", BearerToken: "tok", Identity: []byte("key"), KnownHosts: []byte("kh"), CABundle: []byte("ca")}
	got := c.SecretValues()
	for _, v := range []string{"pw", "tok", "key"} {
		if !slices.Contains(got, v) {
			t.Errorf("SecretValues() = %q misses %q", got, v)
		}
	}
	for _, v := range []string{"alice", "kh", "ca"} {
		if slices.Contains(got, v) {
			t.Errorf("SecretValues() = %q holds the non-secret %q", got, v)
		}
	}
}

func TestAuthForHTTPAndFile(t *testing.T) {
	cases := []struct {
		name  string
		url   string
		creds Credentials
		want  transport.AuthMethod
	}{
		{
			name:  "https with username and password",
			url:   "https://git.example.com/org/repo.git",
			creds: Credentials{Username: "alice", Password: "s3cret"},
			want:  &githttp.BasicAuth{Username: "alice", Password: "s3cret"},
		},
		{
			name:  "http with username and password",
			url:   "http://git.example.com/org/repo.git",
			creds: Credentials{Username: "alice", Password: "s3cret"},
			want:  &githttp.BasicAuth{Username: "alice", Password: "s3cret"},
		},
		{
			name:  "upper-case scheme",
			url:   "HTTPS://git.example.com/org/repo.git",
			creds: Credentials{Username: "alice", Password: "s3cret"},
			want:  &githttp.BasicAuth{Username: "alice", Password: "s3cret"},
		},
		{
			name:  "bearer token",
			url:   "https://git.example.com/org/repo.git",
			creds: Credentials{BearerToken: "tok-123"},
			want:  &githttp.TokenAuth{Token: "tok-123"},
		},
		{
			name:  "bearer token wins over basic auth",
			url:   "https://git.example.com/org/repo.git",
			creds: Credentials{Username: "alice", Password: "s3cret", BearerToken: "tok-123"},
			want:  &githttp.TokenAuth{Token: "tok-123"},
		},
		{
			name:  "password alone is sent with user git",
			url:   "https://git.example.com/org/repo.git",
			creds: Credentials{Password: "ghp_token"},
			want:  &githttp.BasicAuth{Username: "git", Password: "ghp_token"},
		},
		{
			name:  "username alone",
			url:   "https://git.example.com/org/repo.git",
			creds: Credentials{Username: "alice"},
			want:  &githttp.BasicAuth{Username: "alice"},
		},
		{
			name: "no credentials",
			url:  "https://git.example.com/org/repo.git",
			want: nil,
		},
		{
			name:  "ssh material is not used for https",
			url:   "https://git.example.com/org/repo.git",
			creds: Credentials{Identity: []byte("key"), KnownHosts: []byte("kh"), CABundle: []byte("ca")},
			want:  nil,
		},
		{
			name:  "file url takes no auth",
			url:   "file:///srv/git/repo.git",
			creds: Credentials{Username: "alice", Password: "s3cret", BearerToken: "tok"},
			want:  nil,
		},
		{
			name:  "file url without ssh material is not an error",
			url:   "file:///srv/git/repo.git",
			creds: Credentials{},
			want:  nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := authFor(tc.url, tc.creds)
			if err != nil {
				t.Fatalf("authFor(%q): %v", tc.url, err)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("authFor(%q) = %#v, want a nil AuthMethod", tc.url, got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("authFor(%q) (-want +got):\n%s", tc.url, diff)
			}
		})
	}
}

// sshFixture is a deterministic client key and server host key.
type sshFixture struct {
	identityPEM []byte
	hostKey     ssh.PublicKey
	otherKey    ssh.PublicKey
}

func newSSHFixture(t *testing.T) sshFixture {
	t.Helper()
	client := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	block, err := ssh.MarshalPrivateKey(client, "test client")
	if err != nil {
		t.Fatal(err)
	}
	host := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	hostPub, err := ssh.NewPublicKey(host.Public())
	if err != nil {
		t.Fatal(err)
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	otherPub, err := ssh.NewPublicKey(other.Public())
	if err != nil {
		t.Fatal(err)
	}
	return sshFixture{identityPEM: pem.EncodeToMemory(block), hostKey: hostPub, otherKey: otherPub}
}

// knownHosts returns a known_hosts line for the hosts ("host" or "host:port").
func (f sshFixture) knownHosts(hosts ...string) []byte {
	addrs := make([]string, len(hosts))
	for i, h := range hosts {
		addrs[i] = knownhosts.Normalize(h)
	}
	return []byte(knownhosts.Line(addrs, f.hostKey) + "\n")
}

func TestAuthForSSHErrors(t *testing.T) {
	fx := newSSHFixture(t)
	kh := fx.knownHosts("git.example.com")
	cases := []struct {
		name     string
		url      string
		creds    Credentials
		wantText string
	}{
		{
			name:     "no identity",
			url:      "ssh://git@git.example.com/org/repo.git",
			creds:    Credentials{KnownHosts: kh, Password: "pw-marker-1"},
			wantText: `"identity"`,
		},
		{
			name:     "no known_hosts",
			url:      "ssh://git@git.example.com/org/repo.git",
			creds:    Credentials{Identity: fx.identityPEM},
			wantText: `"known_hosts"`,
		},
		{
			name:     "username and password are no substitute for a key",
			url:      "ssh://git.example.com/org/repo.git",
			creds:    Credentials{Username: "alice", Password: "pw-marker-2", KnownHosts: kh},
			wantText: `"identity"`,
		},
		{
			name:     "garbage identity",
			url:      "ssh://git@git.example.com/org/repo.git",
			creds:    Credentials{Identity: []byte("not-a-key-marker-3 definitely not PEM"), KnownHosts: kh, Password: "pw-marker-4"},
			wantText: `"identity"`,
		},
		{
			name:     "PEM block with a broken body",
			url:      "ssh://git@git.example.com/org/repo.git",
			creds:    Credentials{Identity: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nYnJva2VuLWtleS1tYXJrZXItNQ==\n-----END OPENSSH PRIVATE KEY-----\n"), KnownHosts: kh},
			wantText: `"identity"`,
		},
		{
			name:     "known_hosts that does not parse",
			url:      "ssh://git@git.example.com/org/repo.git",
			creds:    Credentials{Identity: fx.identityPEM, KnownHosts: []byte("git.example.com ssh-ed25519 !!!not-base64!!!\n")},
			wantText: `"known_hosts"`,
		},
		{
			name:     "url that does not parse",
			url:      "ssh://git:pw-marker-6@git.example.com/%zz",
			creds:    Credentials{Identity: fx.identityPEM, KnownHosts: kh, Password: "pw-marker-7"},
			wantText: "url does not parse",
		},
		{
			name:     "https url that does not parse keeps its password out",
			url:      "https://alice:pw-marker-8@git.example.com/%zz",
			creds:    Credentials{Username: "alice", Password: "pw-marker-8"},
			wantText: "url does not parse",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth, err := authFor(tc.url, tc.creds)
			if err == nil {
				t.Fatalf("authFor(%q) = %#v, want an error", tc.url, auth)
			}
			if auth != nil {
				t.Errorf("authFor returned %#v along with the error", auth)
			}
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("error %q does not wrap ErrInvalidCredentials", err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not mention %s", err, tc.wantText)
			}
			assertNoSecretIn(t, err.Error(), tc.creds, tc.url)
		})
	}
}

// assertNoSecretIn fails when msg holds the password, token, any line of the
// private key, or the password of the URL.
func assertNoSecretIn(t *testing.T, msg string, c Credentials, rawURL string) {
	t.Helper()
	secrets := []string{c.Password, c.BearerToken}
	for _, line := range strings.Split(string(c.Identity), "\n") {
		if strings.HasPrefix(line, "-----") {
			continue // the PEM armour is not secret
		}
		secrets = append(secrets, line)
	}
	if i := strings.Index(rawURL, "://"); i >= 0 {
		if at := strings.Index(rawURL[i+3:], "@"); at >= 0 {
			userinfo := rawURL[i+3 : i+3+at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				secrets = append(secrets, pw)
			}
		}
	}
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			t.Errorf("error message leaks secret material %q: %s", s, msg)
		}
	}
}

func TestAuthForSSHWithPassphrase(t *testing.T) {
	fx := newSSHFixture(t)
	client := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, ed25519.SeedSize))
	block, err := ssh.MarshalPrivateKeyWithPassphrase(client, "encrypted", []byte("right-passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	identity := pem.EncodeToMemory(block)
	kh := fx.knownHosts("git.example.com")
	const repoURL = "ssh://git@git.example.com/org/repo.git"

	if _, err := authFor(repoURL, Credentials{Identity: identity, KnownHosts: kh, Password: "right-passphrase"}); err != nil {
		t.Errorf("right passphrase: %v", err)
	}
	for _, pw := range []string{"wrong-passphrase", ""} {
		creds := Credentials{Identity: identity, KnownHosts: kh, Password: pw}
		_, err := authFor(repoURL, creds)
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("passphrase %q: error = %v, want one wrapping ErrInvalidCredentials", pw, err)
			continue
		}
		if !strings.Contains(err.Error(), `"password"`) {
			t.Errorf("passphrase %q: error %q does not point at the password key", pw, err)
		}
		assertNoSecretIn(t, err.Error(), creds, repoURL)
	}
}

func TestAuthForSSH(t *testing.T) {
	fx := newSSHFixture(t)
	cases := []struct {
		name     string
		url      string
		hosts    []string
		wantUser string
		wantAlgs []string
		// addr is the address the host key callback is asked about.
		addr string
	}{
		{
			name:     "default user and port",
			url:      "ssh://git.example.com/org/repo.git",
			hosts:    []string{"git.example.com"},
			wantUser: "git",
			wantAlgs: []string{ssh.KeyAlgoED25519},
			addr:     "git.example.com:22",
		},
		{
			name:     "user from the url",
			url:      "ssh://deploy@git.example.com/org/repo.git",
			hosts:    []string{"git.example.com"},
			wantUser: "deploy",
			wantAlgs: []string{ssh.KeyAlgoED25519},
			addr:     "git.example.com:22",
		},
		{
			name:     "explicit port 22",
			url:      "ssh://git@git.example.com:22/org/repo.git",
			hosts:    []string{"git.example.com"},
			wantUser: "git",
			wantAlgs: []string{ssh.KeyAlgoED25519},
			addr:     "git.example.com:22",
		},
		{
			name:     "custom port pinned in known_hosts",
			url:      "ssh://git@git.example.com:2222/org/repo.git",
			hosts:    []string{"git.example.com:2222"},
			wantUser: "git",
			wantAlgs: []string{ssh.KeyAlgoED25519},
			addr:     "git.example.com:2222",
		},
		{
			name:     "one of several hosts on the line",
			url:      "ssh://git@mirror.example.com/org/repo.git",
			hosts:    []string{"git.example.com", "mirror.example.com"},
			wantUser: "git",
			wantAlgs: []string{ssh.KeyAlgoED25519},
			addr:     "mirror.example.com:22",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := Credentials{Identity: fx.identityPEM, KnownHosts: fx.knownHosts(tc.hosts...)}
			auth, err := authFor(tc.url, creds)
			if err != nil {
				t.Fatalf("authFor: %v", err)
			}
			if auth == nil {
				t.Fatal("authFor returned a nil AuthMethod for ssh")
			}
			sshAuth, ok := auth.(gitssh.AuthMethod)
			if !ok {
				t.Fatalf("auth %T is not an ssh AuthMethod", auth)
			}
			if got := auth.Name(); got != gitssh.PublicKeysName {
				t.Errorf("Name() = %q, want %q", got, gitssh.PublicKeysName)
			}
			cfg, err := sshAuth.ClientConfig()
			if err != nil {
				t.Fatalf("ClientConfig: %v", err)
			}
			if cfg.User != tc.wantUser {
				t.Errorf("User = %q, want %q", cfg.User, tc.wantUser)
			}
			if diff := cmp.Diff(tc.wantAlgs, cfg.HostKeyAlgorithms); diff != "" {
				t.Errorf("HostKeyAlgorithms (-want +got):\n%s", diff)
			}
			if len(cfg.Auth) == 0 {
				t.Error("ClientConfig offers no client auth methods")
			}
			if cfg.HostKeyCallback == nil {
				t.Fatal("no HostKeyCallback: host keys would not be checked")
			}
			remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
			if err := cfg.HostKeyCallback(tc.addr, remote, fx.hostKey); err != nil {
				t.Errorf("pinned host key rejected: %v", err)
			}
			if err := cfg.HostKeyCallback(tc.addr, remote, fx.otherKey); err == nil {
				t.Error("a host key that is not in known_hosts was accepted")
			}
		})
	}
}

func TestAuthForSSHHostNotInKnownHosts(t *testing.T) {
	fx := newSSHFixture(t)
	creds := Credentials{Identity: fx.identityPEM, KnownHosts: fx.knownHosts("other.example.com")}
	auth, err := authFor("ssh://git@git.example.com/org/repo.git", creds)
	if err != nil {
		t.Fatalf("authFor: %v", err)
	}
	cfg, err := auth.(gitssh.AuthMethod).ClientConfig()
	if err != nil {
		t.Fatalf("ClientConfig: %v", err)
	}
	if slices.Contains(cfg.HostKeyAlgorithms, ssh.KeyAlgoED25519) {
		t.Errorf("HostKeyAlgorithms = %q: algorithms of another host were offered", cfg.HostKeyAlgorithms)
	}
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
	if err := cfg.HostKeyCallback("git.example.com:22", remote, fx.hostKey); err == nil {
		t.Error("a host missing from known_hosts was accepted")
	}
}

func TestAuthForSSHPortMismatch(t *testing.T) {
	// A key pinned for port 22 says nothing about port 2222.
	fx := newSSHFixture(t)
	creds := Credentials{Identity: fx.identityPEM, KnownHosts: fx.knownHosts("git.example.com")}
	auth, err := authFor("ssh://git@git.example.com:2222/org/repo.git", creds)
	if err != nil {
		t.Fatalf("authFor: %v", err)
	}
	cfg, err := auth.(gitssh.AuthMethod).ClientConfig()
	if err != nil {
		t.Fatalf("ClientConfig: %v", err)
	}
	if len(cfg.HostKeyAlgorithms) != 0 {
		t.Errorf("HostKeyAlgorithms = %q, want none for an unpinned port", cfg.HostKeyAlgorithms)
	}
}

func TestSSHAddress(t *testing.T) {
	cases := []struct {
		name, url, want string
	}{
		{"default port", "ssh://git@example.com/repo", "example.com:22"},
		{"explicit port", "ssh://git@example.com:2222/repo", "example.com:2222"},
		{"ipv6 default port", "ssh://git@[2001:db8::1]/repo", "[2001:db8::1]:22"},
		{"ipv6 explicit port", "ssh://git@[2001:db8::1]:2222/repo", "[2001:db8::1]:2222"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := SSHAddress(u); got != tc.want {
				t.Errorf("SSHAddress(%q) = %q, want %q", tc.url, got, tc.want)
			}
		})
	}
}

func TestFirstLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"one line", "one line"},
		{"first\nsecond\nthird", "first"},
		{"\nafter an empty line", ""},
		{"ünïcode\nrest", "ünïcode"},
	}
	for _, tc := range cases {
		if got := firstLine(tc.in); got != tc.want {
			t.Errorf("firstLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
