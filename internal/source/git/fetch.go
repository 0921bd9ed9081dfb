package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// FetchOptions say what to fetch and where to keep the clone between fetches.
type FetchOptions struct {
	// URL of the repository (https, http, ssh or file).
	URL string
	// Ref selects the revision.
	Ref Reference
	// Credentials for the server, from the GitRepository's Secret.
	Credentials Credentials
	// CacheDir holds the bare clone that later fetches update incrementally.
	// It is created when missing and reset when it belongs to another URL.
	CacheDir string
	// MaxSize caps the bytes (the packfile) one fetch may bring; past it
	// the fetch fails with ErrTooLarge. 0 means DefaultMaxFetchSize.
	MaxSize int64
}

// Result is one fetched revision.
type Result struct {
	// Revision in the form <ref>@sha1:<commit>.
	Revision string
	// Commit is the checked-out commit.
	Commit *object.Commit
	// Incremental is true when an existing clone was updated, not created.
	Incremental bool
}

// urlFile records which URL a cache directory belongs to.
const urlFile = "flotilla-url"

// Fetch resolves opts.Ref on the remote, fetches what is missing into the
// cache and returns the commit. A shallow, single-reference fetch is used for
// branches, tags and semver ranges; a commit is looked up in the full history
// of its branch (or of every branch when none is given).
func Fetch(ctx context.Context, opts FetchOptions) (*Result, error) {
	safeURL := redact.URL(opts.URL)
	auth, err := authFor(opts.URL, opts.Credentials)
	if err != nil {
		return nil, &Error{Op: "prepare credentials", URL: safeURL, Err: err}
	}
	if opts.Ref.Kind() == KindCommit {
		// A commit needs full history; keep it apart from the shallow
		// clone that branches and tags use, so neither spoils the other.
		opts.CacheDir += ".full"
	}
	f := &fetcher{opts: opts, safeURL: safeURL, auth: auth}
	result, err := f.fetch(ctx)
	if err != nil && f.incremental && !isRemoteFailure(err) {
		// A cache the library cannot update (for example after a rewrite of
		// shallow history) is rebuilt once from scratch.
		f.incremental = false
		if rmErr := os.RemoveAll(opts.CacheDir); rmErr == nil {
			result, err = f.fetch(ctx)
		}
	}
	return result, err
}

type fetcher struct {
	opts        FetchOptions
	safeURL     string
	auth        transport.AuthMethod
	incremental bool
}

func (f *fetcher) fetch(ctx context.Context) (*Result, error) {
	repo, err := f.openCache()
	if err != nil {
		return nil, &Error{Op: "open cache", URL: f.safeURL, Err: err}
	}
	maxSize := f.opts.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFetchSize
	}
	remote := gogit.NewRemote(withSizeCap(repo.Storer, maxSize, f.isFile()), &config.RemoteConfig{Name: "origin", URLs: []string{f.opts.URL}})
	ref := f.opts.Ref
	var name string
	switch ref.Kind() {
	case KindCommit:
		name, err = f.fetchCommit(ctx, remote)
	case KindSemVer:
		name, err = f.fetchSemVer(ctx, remote)
	case KindTag:
		name, err = ref.Tag, f.fetchRefs(ctx, remote, "tag "+ref.Tag, 1, tagSpec(ref.Tag))
	default:
		name, err = ref.BranchOrDefault(), f.fetchRefs(ctx, remote, "branch "+ref.BranchOrDefault(), 1, branchSpec(ref.BranchOrDefault()))
	}
	if err != nil {
		return nil, err
	}
	commit, err := f.resolve(repo, name)
	if err != nil {
		return nil, &Error{Op: "resolve " + ref.String(), URL: f.safeURL, Err: err}
	}
	revName := name
	if ref.Kind() == KindCommit {
		revName = ref.Branch
	}
	return &Result{Revision: Revision(revName, commit.Hash.String()), Commit: commit, Incremental: f.incremental}, nil
}

// openCache opens the bare clone in CacheDir, or creates it.
func (f *fetcher) openCache() (*gogit.Repository, error) {
	dir := f.opts.CacheDir
	if owner, err := os.ReadFile(filepath.Join(dir, urlFile)); err == nil && string(owner) == f.opts.URL {
		if repo, err := gogit.PlainOpen(dir); err == nil {
			f.incremental = true
			return repo, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	repo, err := gogit.PlainInit(dir, true)
	if err != nil {
		return nil, err
	}
	return repo, os.WriteFile(filepath.Join(dir, urlFile), []byte(f.opts.URL), 0o600)
}

func branchSpec(branch string) config.RefSpec {
	return config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/heads/%s", branch, branch))
}

func tagSpec(tag string) config.RefSpec {
	return config.RefSpec(fmt.Sprintf("+refs/tags/%s:refs/tags/%s", tag, tag))
}

// fetchRefs fetches refspecs at the given depth (0 for full history).
func (f *fetcher) fetchRefs(ctx context.Context, remote *gogit.Remote, what string, depth int, specs ...config.RefSpec) error {
	if f.isFile() {
		depth = 0 // go-git's file transport serves no shallow packs
	}
	proxyOpts, release := f.proxyOptions(ctx)
	defer release()
	err := remote.FetchContext(ctx, &gogit.FetchOptions{
		RefSpecs:     specs,
		Depth:        depth,
		Auth:         f.auth,
		CABundle:     f.opts.Credentials.CABundle,
		ProxyOptions: proxyOpts,
		Tags:         gogit.NoTags,
		Force:        true,
	})
	if err == nil || errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	return &Error{Op: "fetch " + what, URL: f.safeURL, Err: classify(ctx, err)}
}

func (f *fetcher) fetchSemVer(ctx context.Context, remote *gogit.Remote) (string, error) {
	proxyOpts, release := f.proxyOptions(ctx)
	defer release()
	refs, err := remote.ListContext(ctx, &gogit.ListOptions{Auth: f.auth, CABundle: f.opts.Credentials.CABundle, ProxyOptions: proxyOpts})
	if err != nil {
		return "", &Error{Op: "list tags", URL: f.safeURL, Err: classify(ctx, err)}
	}
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		names = append(names, r.Name().String())
	}
	tag, err := NewestTag(tagNames(names), f.opts.Ref.SemVer)
	if err != nil {
		return "", &Error{Op: "select tag", URL: f.safeURL, Err: err}
	}
	return tag, f.fetchRefs(ctx, remote, "tag "+tag, 1, tagSpec(tag))
}

func (f *fetcher) fetchCommit(ctx context.Context, remote *gogit.Remote) (string, error) {
	spec := config.RefSpec("+refs/heads/*:refs/heads/*")
	what := "every branch"
	if b := f.opts.Ref.Branch; b != "" {
		spec, what = branchSpec(b), "branch "+b
	}
	if err := f.fetchRefs(ctx, remote, what, 0, spec); err != nil {
		return "", err
	}
	return f.opts.Ref.Commit, nil
}

// resolve turns a fetched branch, tag or commit hash into a commit.
func (f *fetcher) resolve(repo *gogit.Repository, name string) (*object.Commit, error) {
	ref := f.opts.Ref
	if ref.Kind() == KindCommit {
		return resolveCommit(repo, ref)
	}
	refName := plumbing.NewBranchReferenceName(name)
	if ref.Kind() != KindBranch {
		refName = plumbing.NewTagReferenceName(name)
	}
	r, err := repo.Reference(refName, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %s was not fetched", ErrRefNotFound, refName)
	}
	return peel(repo, r.Hash())
}

// resolveCommit finds the commit, and with a branch checks that it is in
// that branch's history (a commit of another branch may sit in the cache).
func resolveCommit(repo *gogit.Repository, ref Reference) (*object.Commit, error) {
	notFound := fmt.Errorf("%w: commit %s is not in %s", ErrRefNotFound, ref.Commit, scopeOf(ref))
	c, err := repo.CommitObject(plumbing.NewHash(ref.Commit))
	if err != nil {
		return nil, notFound
	}
	if ref.Branch == "" {
		return c, nil
	}
	tipRef, err := repo.Reference(plumbing.NewBranchReferenceName(ref.Branch), true)
	if err != nil {
		return nil, notFound
	}
	tip, err := repo.CommitObject(tipRef.Hash())
	if err != nil {
		return nil, notFound
	}
	if c.Hash == tip.Hash {
		return c, nil
	}
	if ok, err := c.IsAncestor(tip); err != nil || !ok {
		return nil, notFound
	}
	return c, nil
}

func scopeOf(ref Reference) string {
	if ref.Branch != "" {
		return "the history of branch " + ref.Branch
	}
	return "any branch"
}

// peel follows an annotated tag to its commit.
func peel(repo *gogit.Repository, h plumbing.Hash) (*object.Commit, error) {
	if tag, err := repo.TagObject(h); err == nil {
		return tag.Commit()
	}
	return repo.CommitObject(h)
}

// proxyOptions bounds ssh connections by ctx (see sshdial.go); other
// transports honour ctx themselves and get no proxy.
func (f *fetcher) proxyOptions(ctx context.Context) (transport.ProxyOptions, func()) {
	if !strings.HasPrefix(f.opts.URL, "ssh://") {
		return transport.ProxyOptions{}, func() {}
	}
	return sshProxyOptions(ctx)
}

func (f *fetcher) isFile() bool {
	return strings.HasPrefix(f.opts.URL, "file://")
}

// classify wraps a go-git error with the sentinel that names its cause.
func classify(ctx context.Context, err error) error {
	msg := err.Error()
	var noMatch gogit.NoMatchingRefSpecError
	switch {
	case errors.Is(err, ErrTooLarge):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %v", ErrUnreachable, ctx.Err())
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(msg, "unable to authenticate"):
		return fmt.Errorf("%w: %v", ErrAuthentication, err)
	case strings.Contains(msg, "knownhosts:"):
		return fmt.Errorf("%w: %v", ErrHostKey, err)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w: %v", ErrRepositoryNotFound, err)
	case errors.As(err, &noMatch), errors.Is(err, transport.ErrEmptyRemoteRepository),
		strings.Contains(msg, "couldn't find remote ref"):
		return fmt.Errorf("%w: %v", ErrRefNotFound, err)
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		return fmt.Errorf("%w: %v", ErrTLS, err)
	case isNetwork(msg):
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return err
}

func isNetwork(msg string) bool {
	for _, s := range []string{"connection refused", "no such host", "i/o timeout", "connection reset", "EOF", "dial tcp"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isRemoteFailure reports errors that a fresh clone would not fix.
func isRemoteFailure(err error) bool {
	for _, e := range []error{ErrAuthentication, ErrHostKey, ErrTLS, ErrRepositoryNotFound, ErrRefNotFound, ErrUnreachable, ErrInvalidCredentials, ErrTooLarge} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
