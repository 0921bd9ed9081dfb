package registry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// DockerConfigKey is the key of a kubernetes.io/dockerconfigjson Secret.
const DockerConfigKey = ".dockerconfigjson"

// ErrInvalidDockerConfig means a Secret's .dockerconfigjson does not parse.
var ErrInvalidDockerConfig = errors.New("invalid .dockerconfigjson")

// Credential is a user name and password (or token) for one registry host.
type Credential struct {
	Username, Password string
}

// Auths holds credentials by registry host, in the order of precedence the
// Secrets were given in: the first Secret naming a host wins.
type Auths struct {
	hosts map[string]Credential
}

// dockerConfig is the shape of a .dockerconfigjson.
type dockerConfig struct {
	Auths map[string]struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
		Token    string `json:"identitytoken"`
	} `json:"auths"`
}

// Add reads a .dockerconfigjson (the value of DockerConfigKey) and adds its
// credentials for hosts no earlier Secret named. The error names the
// Secret (source) and never holds a credential.
func (a *Auths) Add(source string, data []byte) error {
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("%w in %s: not JSON of the form {\"auths\": {...}}", ErrInvalidDockerConfig, source)
	}
	if a.hosts == nil {
		a.hosts = map[string]Credential{}
	}
	for host, e := range cfg.Auths {
		c := Credential{Username: e.Username, Password: e.Password}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			user, pw, ok := strings.Cut(string(raw), ":")
			if err != nil || !ok {
				return fmt.Errorf("%w in %s: the auth of %s is not base64 of user:password", ErrInvalidDockerConfig, source, normalizeHost(host))
			}
			c = Credential{Username: user, Password: pw}
		}
		if c.Password == "" && e.Token != "" {
			c.Password = e.Token
		}
		h := normalizeHost(host)
		if _, ok := a.hosts[h]; !ok {
			a.hosts[h] = c
		}
	}
	return nil
}

// Secrets returns every password and token held, for a redactor.
func (a *Auths) Secrets() []string {
	var out []string
	for _, c := range a.hosts {
		out = append(out, c.Password)
	}
	return out
}

// For returns the credential for a registry, and whether there is one.
func (a *Auths) For(reg name.Registry) (Credential, bool) {
	if a == nil || a.hosts == nil {
		return Credential{}, false
	}
	for _, h := range hostAliases(reg.RegistryStr()) {
		if c, ok := a.hosts[h]; ok {
			return c, true
		}
	}
	return Credential{}, false
}

// authenticator is the go-containerregistry authenticator for reg.
func (a *Auths) authenticator(reg name.Registry) authn.Authenticator {
	c, ok := a.For(reg)
	if !ok {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: c.Username, Password: c.Password})
}

// normalizeHost turns a .dockerconfigjson key (a host, a URL, Docker Hub's
// legacy https://index.docker.io/v1/) into host[:port].
func normalizeHost(key string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	return strings.ToLower(h)
}

// hostAliases are the names a registry may be keyed by; Docker Hub has three.
func hostAliases(reg string) []string {
	reg = strings.ToLower(reg)
	if reg == name.DefaultRegistry || reg == "docker.io" || reg == "registry-1.docker.io" {
		return []string{"index.docker.io", "docker.io", "registry-1.docker.io"}
	}
	return []string{reg}
}
