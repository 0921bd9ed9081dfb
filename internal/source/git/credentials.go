package git

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Keys of the Secret named by a GitRepository's secretRef.
const (
	UsernameKey    = "username"
	PasswordKey    = "password"
	BearerTokenKey = "bearerToken"
	IdentityKey    = "identity"
	KnownHostsKey  = "known_hosts"
	CAFileKey      = "ca.crt"
)

// Credentials are what a Secret holds for one repository.
type Credentials struct {
	Username    string
	Password    string
	BearerToken string
	Identity    []byte
	KnownHosts  []byte
	CABundle    []byte
}

// CredentialsFromSecret reads Credentials from a Secret's data.
func CredentialsFromSecret(data map[string][]byte) Credentials {
	return Credentials{
		Username:    string(data[UsernameKey]),
		Password:    string(data[PasswordKey]),
		BearerToken: string(data[BearerTokenKey]),
		Identity:    data[IdentityKey],
		KnownHosts:  data[KnownHostsKey],
		CABundle:    data[CAFileKey],
	}
}

// SecretData is the data of a Secret holding c, under the keys
// CredentialsFromSecret reads; empty fields are left out. `flotilla
// bootstrap` writes its Secret with it.
func (c Credentials) SecretData() map[string][]byte {
	data := map[string][]byte{}
	for key, value := range map[string][]byte{
		UsernameKey: []byte(c.Username), PasswordKey: []byte(c.Password), BearerTokenKey: []byte(c.BearerToken),
		IdentityKey: c.Identity, KnownHostsKey: c.KnownHosts, CAFileKey: c.CABundle,
	} {
		if len(value) > 0 {
			data[key] = value
		}
	}
	return data
}

// SecretValues lists the values that must never appear in any output.
func (c Credentials) SecretValues() []string {
	return []string{c.Password, c.BearerToken, string(c.Identity)}
}

// ErrInvalidCredentials means the Secret cannot work for the URL's scheme.
var ErrInvalidCredentials = errors.New("invalid credentials")

// authFor returns the go-git auth method for rawURL.
func authFor(rawURL string, c Credentials) (transport.AuthMethod, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: url does not parse", ErrInvalidCredentials)
	}
	switch u.Scheme {
	case "http", "https":
		return httpAuth(c), nil
	case "ssh":
		return sshAuth(u, c)
	default:
		return nil, nil
	}
}

func httpAuth(c Credentials) transport.AuthMethod {
	switch {
	case c.BearerToken != "":
		return &githttp.TokenAuth{Token: c.BearerToken}
	case c.Username != "" || c.Password != "":
		user := c.Username
		if user == "" {
			user = "git" // a token alone as password: most hosts accept any user name
		}
		return &githttp.BasicAuth{Username: user, Password: c.Password}
	default:
		return nil
	}
}

// SSHConnectTimeout bounds the TCP connection to an ssh server (the
// handshake and the session are bounded by the operation's context, see
// sshdial.go).
const SSHConnectTimeout = 30 * time.Second

// publicKeysWithAlgorithms restricts the host key algorithms offered to
// those known_hosts has for the host, so a server that prefers another key
// type is still checked against the key the user pinned.
type publicKeysWithAlgorithms struct {
	*gitssh.PublicKeys
	algorithms []string
}

// ClientConfig implements gitssh.AuthMethod.
func (p *publicKeysWithAlgorithms) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := p.PublicKeys.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.HostKeyAlgorithms, cfg.Timeout = p.algorithms, SSHConnectTimeout
	return cfg, nil
}

var _ gitssh.AuthMethod = &publicKeysWithAlgorithms{}

func sshAuth(u *url.URL, c Credentials) (transport.AuthMethod, error) {
	if len(c.Identity) == 0 {
		return nil, fmt.Errorf("%w: an ssh url needs the secret key %q (a private key)", ErrInvalidCredentials, IdentityKey)
	}
	if len(c.KnownHosts) == 0 {
		return nil, fmt.Errorf("%w: an ssh url needs the secret key %q: host keys are always checked", ErrInvalidCredentials, KnownHostsKey)
	}
	user := u.User.Username()
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, c.Identity, c.Password)
	if err != nil {
		return nil, fmt.Errorf("%w: secret key %q is not a usable private key (wrong passphrase in %q?)", ErrInvalidCredentials, IdentityKey, PasswordKey)
	}
	db, err := knownHostsDB(c.KnownHosts)
	if err != nil {
		return nil, err
	}
	keys.HostKeyCallback = db.HostKeyCallback()
	return &publicKeysWithAlgorithms{PublicKeys: keys, algorithms: db.HostKeyAlgorithms(SSHAddress(u))}, nil
}

// knownHostsDB parses known_hosts content; the library reads only files.
func knownHostsDB(content []byte) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp("", "flotilla-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("writing known_hosts: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(content); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing known_hosts: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing known_hosts: %w", err)
	}
	db, err := knownhosts.NewDB(f.Name())
	if err != nil {
		return nil, fmt.Errorf("%w: secret key %q does not parse as known_hosts: %s", ErrInvalidCredentials, KnownHostsKey, firstLine(err.Error()))
	}
	return db, nil
}

// SSHAddress is the host:port an ssh URL reaches, port 22 when it names
// none.
func SSHAddress(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "22")
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
