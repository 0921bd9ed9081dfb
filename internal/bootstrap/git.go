package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	gogit "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	sourcegit "github.com/flotilla-io/flotilla/internal/source/git"
)

// credentials are o's, as a GitRepository's Secret holds them. With a
// private key the user is the ssh URL's, so a --username is not kept.
func (o *Options) credentials() sourcegit.Credentials {
	c := sourcegit.Credentials{Username: o.Username, Password: o.Password, Identity: o.PrivateKey, KnownHosts: o.KnownHosts}
	if len(c.Identity) > 0 {
		c.Username = ""
	}
	return c
}

// auth returns the go-git credentials for o.URL, built as the agent builds
// them (internal/source/git): basic auth for http(s); for ssh the private
// key, the host key checked against o.KnownHosts (which scanHostKey fills
// in when it was not given) with the algorithms pinned to those known for
// the host, and the TCP connection bounded.
func (o *Options) auth() (transport.AuthMethod, error) {
	auth, err := sourcegit.Auth(o.URL, o.credentials())
	if err != nil {
		return nil, fmt.Errorf("the credentials of --private-key-file and --known-hosts-file: %w", err)
	}
	return auth, nil
}

// errScanned ends the handshake of a host key scan once the key is known.
var errScanned = errors.New("host key scanned")

// scanHostKey connects to the ssh server of o.URL, reads its host key
// (without authenticating) and returns a known_hosts line and the key's
// SHA256 fingerprint.
func scanHostKey(ctx context.Context, rawURL string) (line []byte, fingerprint string, err error) {
	u, _ := url.Parse(rawURL)
	addr := sourcegit.SSHAddress(u)
	ctx, cancel := context.WithTimeout(ctx, sourcegit.SSHConnectTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("scanning the ssh host key of %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	var key ssh.PublicKey
	cfg := &ssh.ClientConfig{User: "git", HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
		key = k
		return errScanned
	}}
	_, _, _, err = ssh.NewClientConn(conn, addr, cfg)
	if key == nil {
		return nil, "", fmt.Errorf("scanning the ssh host key of %s: %w", addr, err)
	}
	l := xknownhosts.Line([]string{xknownhosts.Normalize(addr)}, key) + "\n"
	return []byte(l), ssh.FingerprintSHA256(key), nil
}

// checkout is a clone of the branch in a temporary directory.
type checkout struct {
	dir    string
	repo   *gogit.Repository
	branch plumbing.ReferenceName
	auth   transport.AuthMethod
	url    string
	// fresh is true when the branch does not exist on the remote yet.
	fresh bool
}

// clone clones o.Branch into dir. An empty repository gets a new
// repository with the branch unborn; a missing branch starts from the
// default branch.
func (o *Options) clone(ctx context.Context, dir string, auth transport.AuthMethod) (*checkout, error) {
	branch := plumbing.NewBranchReferenceName(o.Branch)
	co := &checkout{dir: dir, branch: branch, auth: auth, url: o.URL}
	proxy, release := sourcegit.ProxyOptions(ctx, o.URL)
	defer release()
	repo, err := gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{
		URL: o.URL, Auth: auth, ReferenceName: branch, SingleBranch: true, ProxyOptions: proxy,
	})
	if err == nil {
		co.repo = repo
		return co, nil
	}
	if !errors.Is(err, transport.ErrEmptyRemoteRepository) && !isMissingRef(err) {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	co.fresh = true
	if repo, err = o.cloneDefault(ctx, dir, auth); err != nil {
		return nil, err
	}
	co.repo = repo
	// HEAD names the new branch: the commit creates it, on top of the
	// default branch when there is one.
	head, herr := repo.Head()
	if herr == nil {
		err = repo.Storer.SetReference(plumbing.NewHashReference(branch, head.Hash()))
	}
	return co, errors.Join(err, repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branch)))
}

// cloneDefault clones the default branch, or initializes an empty
// repository with the remote when there is nothing to clone.
func (o *Options) cloneDefault(ctx context.Context, dir string, auth transport.AuthMethod) (*gogit.Repository, error) {
	proxy, release := sourcegit.ProxyOptions(ctx, o.URL)
	defer release()
	repo, err := gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{URL: o.URL, Auth: auth, ProxyOptions: proxy})
	if err == nil || !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return repo, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	repo, err = gogit.PlainInit(dir, false)
	if err != nil {
		return nil, err
	}
	_, err = repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{o.URL}})
	return repo, err
}

func isMissingRef(err error) bool {
	var noMatch gogit.NoMatchingRefSpecError
	return errors.As(err, &noMatch) || errors.Is(err, plumbing.ErrReferenceNotFound)
}

// head returns the commit the branch points at, or "" when it is unborn.
func (co *checkout) head() string {
	ref, err := co.repo.Reference(co.branch, true)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

// commitAndPush commits everything under path and pushes the branch.
func (co *checkout) commitAndPush(ctx context.Context, path, message string) (string, error) {
	wt, err := co.repo.Worktree()
	if err != nil {
		return "", err
	}
	if co.fresh {
		// A new branch made from the default one: keep that tree checked
		// out (the worktree already holds it) and let the commit add to it.
		if err := wt.Reset(&gogit.ResetOptions{Mode: gogit.MixedReset}); err != nil && co.head() != "" {
			return "", err
		}
	}
	if _, err := wt.Add(path); err != nil {
		return "", fmt.Errorf("adding %s: %w", path, err)
	}
	sig := &object.Signature{Name: CommitterName, Email: CommitterEmail, When: time.Now()}
	hash, err := wt.Commit(message, &gogit.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return "", fmt.Errorf("committing %s: %w", path, err)
	}
	spec := gitconfig.RefSpec(co.branch.String() + ":" + co.branch.String())
	proxy, release := sourcegit.ProxyOptions(ctx, co.url)
	defer release()
	err = co.repo.PushContext(ctx, &gogit.PushOptions{RemoteName: "origin", Auth: co.auth, RefSpecs: []gitconfig.RefSpec{spec}, ProxyOptions: proxy})
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", co.branch.Short(), err)
	}
	return hash.String(), nil
}
