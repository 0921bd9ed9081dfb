package bootstrap

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// Committer is the author and committer of bootstrap commits.
const (
	CommitterName  = "Flotilla"
	CommitterEmail = "flotilla@users.noreply.flotilla.io"
)

// Names of the files bootstrap writes into the cluster's directory.
const (
	ComponentsFile    = "flotilla-components.yaml"
	SyncFile          = "flotilla-sync.yaml"
	KustomizationFile = "kustomization.yaml"
)

// Options say which repository, branch and directory a cluster follows.
type Options struct {
	// Install shapes the agent; Install.Namespace is also where the
	// Secret, the GitRepository and the root Stack go.
	Install install.Options
	// URL of the repository: https://, http:// or ssh://.
	URL string
	// Branch to follow; created when the repository does not have it.
	Branch string
	// Path of the cluster's directory in the repository, e.g. clusters/prod.
	Path string
	// Username and Password for HTTP(S) basic auth (a token alone may go
	// in Password).
	Username, Password string
	// PrivateKey is an SSH private key (PEM or OpenSSH) for ssh:// URLs.
	PrivateKey []byte
	// KnownHosts holds the SSH server's host keys; empty means scan the
	// server's key and report its fingerprint.
	KnownHosts []byte
	// SourceName names the GitRepository; StackName the root Stack;
	// SecretName the credentials Secret.
	SourceName, StackName, SecretName string
	// Interval between two fetches of the repository.
	Interval time.Duration
	// StackInterval between two reconciles of the root Stack.
	StackInterval time.Duration
	// Wait for the root Stack to be Ready; Timeout bounds that wait.
	Wait    bool
	Timeout time.Duration
}

// DefaultOptions returns the defaults of `flotilla bootstrap`. The agent is
// bound to cluster-admin by default: the root Stack applies the agent's own
// CRDs and RBAC, which least privilege does not allow.
func DefaultOptions() Options {
	in := install.DefaultOptions()
	in.ClusterAdmin = true
	return Options{
		Install: in, Branch: "main",
		SourceName: "fleet", StackName: "cluster", SecretName: "fleet-git",
		Interval: time.Minute, StackInterval: 10 * time.Minute,
		Wait: true, Timeout: 5 * time.Minute,
	}
}

// Result says what a Run did.
type Result struct {
	// Changes lists every object applied and what happened to it.
	Changes apply.ChangeSet
	// Committed is true when the directory was written, committed and pushed.
	Committed bool
	// Commit is the head of the branch after the run (the pushed commit
	// when Committed).
	Commit string
	// Revision is the root Stack's last applied revision, when waited for.
	Revision string
	// HostKeyFingerprint is the SHA256 fingerprint of the scanned SSH host
	// key; empty when known hosts were given or the URL is not ssh.
	HostKeyFingerprint string
}

// validate normalizes o and says what cannot work.
func (o *Options) validate() error {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--url %q is not a repository URL such as https://git.example.com/fleet.git or ssh://git@host/fleet.git", redact.URL(o.URL))
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return errors.New("--url carries a password: pass it with --password instead, so it is stored in the Secret and never in the GitRepository")
	}
	switch u.Scheme {
	case "http", "https":
		if len(o.PrivateKey) > 0 {
			return fmt.Errorf("--private-key-file is for ssh:// URLs; %s needs --username/--password", u.Scheme)
		}
	case "ssh":
		if len(o.PrivateKey) == 0 {
			return errors.New("an ssh:// URL needs --private-key-file")
		}
		if o.Password != "" {
			return errors.New("--password is for http(s) URLs; an ssh key with a passphrase is not supported, use a key without one")
		}
	default:
		return fmt.Errorf("--url scheme %q is not supported: use https://, http:// or ssh://", u.Scheme)
	}
	return o.validatePath()
}

func (o *Options) validatePath() error {
	p := strings.TrimPrefix(path.Clean(strings.TrimSpace(o.Path)), "./")
	if p == "." || p == "" || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("--path %q must name a directory inside the repository, such as clusters/prod", o.Path)
	}
	o.Path = p
	if o.Branch == "" {
		return errors.New("--branch is empty")
	}
	if o.SourceName == "" || o.StackName == "" || o.SecretName == "" {
		return errors.New("the GitRepository, root Stack and Secret names must not be empty")
	}
	return o.Install.Validate()
}

// hasCredentials says whether a Secret is needed.
func (o *Options) hasCredentials() bool {
	return o.Username != "" || o.Password != "" || len(o.PrivateKey) > 0
}

// redactor masks every credential in a message.
func (o *Options) redactor() *redact.Redactor {
	return redact.New(o.Password, string(o.PrivateKey))
}
