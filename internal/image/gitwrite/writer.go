package gitwrite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/flotilla-io/flotilla/internal/backoff"
	"github.com/flotilla-io/flotilla/internal/image/setters"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// ErrPushRejected means the server kept refusing the push because the
// branch moved, MaxAttempts times.
var ErrPushRejected = errors.New("push rejected")

// Error is a failed write; URL is free of credentials.
type Error struct {
	// Op is what was attempted, e.g. "push to branch main".
	Op string
	// URL is the repository URL, credentials stripped.
	URL string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s of %s: %v", e.Op, e.URL, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// EditFunc changes files in the checkout at dir and reports what changed.
type EditFunc func(ctx context.Context, dir string) (*setters.Report, error)

// MessageFunc returns the commit message for a change.
type MessageFunc func(setters.Result) (string, error)

// Request is one write.
type Request struct {
	// URL of the repository, and its Credentials.
	URL         string
	Credentials git.Credentials
	// Branch is checked out and, by default, pushed to.
	Branch string
	// PushBranch, when set and not Branch, is force-pushed with the commit
	// (created from Branch on each run).
	PushBranch string
	// Refspec is pushed as well, e.g. "refs/heads/main:refs/heads/auto";
	// its source names local branch Branch after the commit.
	Refspec string
	// PushOptions are sent as git push options.
	PushOptions map[string]string
	// Author of the commit (also its committer).
	AuthorName, AuthorEmail string
	// SigningKey signs the commit when set (decrypted).
	SigningKey *openpgp.Entity
	// Timeout bounds each fetch and push; 0 means only ctx does.
	Timeout time.Duration
	// Edit changes the checkout; Message writes the commit message.
	Edit    EditFunc
	Message MessageFunc
}

// Result is what a write did.
type Result struct {
	// Commit is the pushed commit, "" when the edit changed nothing.
	Commit string
	// BaseRevision is <branch>@sha1:<commit> the edit started from.
	BaseRevision string
	// Report is the edit's report on the last attempt.
	Report *setters.Report
	// Attempts is how many times the edit ran.
	Attempts int
	// Unchanged is true when the push branch (another than Branch) already
	// held the same change on the same base: nothing was pushed, and Commit
	// is the branch's existing head.
	Unchanged bool
}

// Writer serializes writes per repository and branch and retries rejected
// pushes.
type Writer struct {
	workDir     string
	maxAttempts int
	backoff     time.Duration
	beforePush  func(attempt int)

	mu    sync.Mutex
	locks map[string]chan struct{}
}

// Option configures a Writer.
type Option func(*Writer)

// WithMaxAttempts sets how many times a rejected push is retried in all
// (default 5).
func WithMaxAttempts(n int) Option { return func(w *Writer) { w.maxAttempts = max(n, 1) } }

// WithBackoff sets the first wait after a rejected push (default 250ms); it
// doubles each time, with jitter.
func WithBackoff(d time.Duration) Option { return func(w *Writer) { w.backoff = d } }

// WithWorkDir keeps one clone per repository and push branch under dir,
// fetched into incrementally by later writes; without it each write clones
// into a temporary directory and removes it.
func WithWorkDir(dir string) Option { return func(w *Writer) { w.workDir = dir } }

// WithBeforePush runs f before each push attempt; tests use it to line up
// writers so their pushes race.
func WithBeforePush(f func(attempt int)) Option { return func(w *Writer) { w.beforePush = f } }

// NewWriter returns a Writer.
func NewWriter(opts ...Option) *Writer {
	w := &Writer{maxAttempts: 5, backoff: 250 * time.Millisecond, locks: map[string]chan struct{}{}}
	for _, o := range opts {
		o(w)
	}
	return w
}

// lock takes the lock of key, honouring ctx.
func (w *Writer) lock(ctx context.Context, key string) (func(), error) {
	w.mu.Lock()
	ch, ok := w.locks[key]
	if !ok {
		ch = make(chan struct{}, 1)
		w.locks[key] = ch
	}
	w.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Write runs req: fetch, edit, commit, push, and again on a rejected push.
func (w *Writer) Write(ctx context.Context, req Request) (*Result, error) {
	safeURL := redact.URL(req.URL)
	key := req.URL + "\x00" + req.pushBranch()
	unlock, err := w.lock(ctx, key)
	if err != nil {
		return nil, &Error{Op: "wait for the writer of branch " + req.pushBranch(), URL: safeURL, Err: err}
	}
	defer unlock()
	auth, err := git.Auth(req.URL, req.Credentials)
	if err != nil {
		return nil, &Error{Op: "prepare credentials", URL: safeURL, Err: err}
	}
	repo, dir, release, err := w.checkout(key, req.URL)
	if err != nil {
		return nil, &Error{Op: "prepare the checkout", URL: safeURL, Err: err}
	}
	defer release()
	run := &run{req: req, repo: repo, dir: dir, auth: auth, safeURL: safeURL}
	return w.attempts(ctx, run)
}

// checkout returns the repository to work in. With a work directory, the
// clone of each repository and push branch is kept there and fetched into
// incrementally on later writes (only the holder of the key's lock uses it);
// without one, a temporary clone is made and removed.
func (w *Writer) checkout(key, url string) (*gogit.Repository, string, func(), error) {
	if w.workDir == "" {
		dir, err := os.MkdirTemp("", "flotilla-imgupdate-*")
		if err != nil {
			return nil, "", nil, err
		}
		repo, err := initRepo(dir, url)
		return repo, dir, func() { os.RemoveAll(dir) }, err
	}
	sum := sha256.Sum256([]byte(key))
	dir := filepath.Join(w.workDir, hex.EncodeToString(sum[:12]))
	if repo, err := gogit.PlainOpen(dir); err == nil {
		return repo, dir, func() {}, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, "", nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", nil, err
	}
	repo, err := initRepo(dir, url)
	return repo, dir, func() {}, err
}

func initRepo(dir, url string) (*gogit.Repository, error) {
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		return nil, err
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
	return repo, err
}

// attempts runs the edit and push until the push lands or MaxAttempts.
func (w *Writer) attempts(ctx context.Context, r *run) (*Result, error) {
	var res *Result
	policy := backoff.Policy{Attempts: w.maxAttempts, Base: w.backoff, Max: 10 * time.Second}
	err := backoff.Retry(ctx, policy, lostRace, func(attempt int) error {
		var err error
		res, err = r.once(ctx, attempt, w.beforePush)
		return err
	})
	var exhausted *backoff.ExhaustedError
	var interrupted *backoff.InterruptedError
	switch {
	case errors.As(err, &exhausted):
		return nil, &Error{Op: "push to branch " + r.req.pushBranch(), URL: r.safeURL,
			Err: fmt.Errorf("%w %d times because the branch kept moving: %v", ErrPushRejected, exhausted.Attempts, exhausted.Last)}
	case errors.As(err, &interrupted):
		return nil, &Error{Op: "retry push to branch " + r.req.pushBranch(), URL: r.safeURL, Err: interrupted.Err}
	}
	return res, err
}

// lostRace reports an attempt whose push another writer beat: worth
// another attempt on the moved branch.
func lostRace(err error) bool { return errors.Is(err, errRejected) }

func (req Request) pushBranch() string {
	if req.PushBranch != "" {
		return req.PushBranch
	}
	if req.Refspec != "" {
		return req.Refspec
	}
	return req.Branch
}

// errRejected marks a push the server refused because the branch moved.
var errRejected = errors.New("the branch moved")

// run is one Write's state.
type run struct {
	req     Request
	repo    *gogit.Repository
	dir     string
	auth    transport.AuthMethod
	safeURL string
}

// bound applies the request's timeout to one network operation.
func (r *run) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.req.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.req.Timeout)
}

// once fetches the branch, edits, commits and pushes.
func (r *run) once(ctx context.Context, attempt int, beforePush func(int)) (*Result, error) {
	base, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{BaseRevision: git.Revision(r.req.Branch, base.String()), Attempts: attempt}
	if res.Report, err = r.edit(ctx, base); err != nil || res.Report.Result.Empty() {
		return res, err
	}
	commit, err := r.commit(base, res.Report.Result)
	if err != nil {
		return nil, err
	}
	if head, same := r.sameAsPushBranch(ctx, base, commit); same {
		res.Commit, res.Unchanged = head.String(), true
		return res, nil
	}
	if beforePush != nil {
		beforePush(attempt)
	}
	if err := r.push(ctx, commit); err != nil {
		return nil, err
	}
	res.Commit = commit.String()
	return res, nil
}

// fetch fetches the branch and returns its head.
func (r *run) fetch(ctx context.Context) (plumbing.Hash, error) {
	remoteRef := plumbing.NewRemoteReferenceName("origin", r.req.Branch)
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", r.req.Branch, remoteRef))
	ctx, cancel := r.bound(ctx)
	defer cancel()
	proxy, release := git.ProxyOptions(ctx, r.req.URL)
	defer release()
	err := r.repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: r.auth,
		CABundle: r.req.Credentials.CABundle, ProxyOptions: proxy, Tags: gogit.NoTags, Force: true,
	})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, &Error{Op: "fetch branch " + r.req.Branch, URL: r.safeURL, Err: git.Classify(ctx, err)}
	}
	ref, err := r.repo.Reference(remoteRef, true)
	if err != nil {
		return plumbing.ZeroHash, &Error{Op: "fetch branch " + r.req.Branch, URL: r.safeURL, Err: fmt.Errorf("%w: %v", git.ErrRefNotFound, err)}
	}
	return ref.Hash(), nil
}

// sameAsPushBranch reports whether the separate push branch's head already
// is a commit on base with the tree of commit, so pushing would only
// rewrite it (and wake a pull request) for nothing.
func (r *run) sameAsPushBranch(ctx context.Context, base, commit plumbing.Hash) (plumbing.Hash, bool) {
	push := r.req.PushBranch
	if push == "" || push == r.req.Branch {
		return plumbing.ZeroHash, false
	}
	remoteRef := plumbing.NewRemoteReferenceName("origin", push)
	ctx, cancel := r.bound(ctx)
	defer cancel()
	proxy, release := git.ProxyOptions(ctx, r.req.URL)
	defer release()
	err := r.repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName: "origin", RefSpecs: []config.RefSpec{config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", push, remoteRef))},
		Auth: r.auth, CABundle: r.req.Credentials.CABundle, ProxyOptions: proxy, Tags: gogit.NoTags, Force: true,
	})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, false // no such branch yet, or unreadable: push
	}
	ref, err := r.repo.Reference(remoteRef, true)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	theirs, err1 := r.repo.CommitObject(ref.Hash())
	ours, err2 := r.repo.CommitObject(commit)
	if err1 != nil || err2 != nil || len(theirs.ParentHashes) != 1 || theirs.ParentHashes[0] != base {
		return plumbing.ZeroHash, false
	}
	return theirs.Hash, theirs.TreeHash == ours.TreeHash && theirs.Message == ours.Message
}

// edit checks base out (discarding an earlier attempt) and runs the edit.
func (r *run) edit(ctx context.Context, base plumbing.Hash) (*setters.Report, error) {
	wt, err := r.repo.Worktree()
	if err != nil {
		return nil, err
	}
	local := plumbing.NewBranchReferenceName(r.req.Branch)
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(local, base)); err != nil {
		return nil, err
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Branch: local, Force: true}); err != nil {
		return nil, fmt.Errorf("checking out %s: %w", r.req.Branch, err)
	}
	return r.req.Edit(ctx, r.dir)
}

// commit stages the changed files and commits them on the local branch.
func (r *run) commit(base plumbing.Hash, changed setters.Result) (plumbing.Hash, error) {
	wt, err := r.repo.Worktree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for _, f := range changed.Files() {
		if _, err := wt.Add(f); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("staging %s: %w", f, err)
		}
	}
	msg, err := r.req.Message(changed)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := &object.Signature{Name: r.req.AuthorName, Email: r.req.AuthorEmail, When: time.Now()}
	h, err := wt.Commit(msg, &gogit.CommitOptions{Author: sig, Committer: sig, Parents: []plumbing.Hash{base}, SignKey: r.req.SigningKey})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("committing: %w", err)
	}
	return h, nil
}

// push sends the commit to the push branch and refspec.
func (r *run) push(ctx context.Context, commit plumbing.Hash) error {
	local := plumbing.NewBranchReferenceName(r.req.Branch)
	var specs []config.RefSpec
	if r.req.PushBranch != "" || r.req.Refspec == "" {
		dst := r.req.PushBranch
		force := ""
		if dst == "" {
			dst = r.req.Branch
		} else if dst != r.req.Branch {
			force = "+"
		}
		specs = append(specs, config.RefSpec(fmt.Sprintf("%s%s:refs/heads/%s", force, local, dst)))
	}
	if r.req.Refspec != "" {
		specs = append(specs, config.RefSpec(r.req.Refspec))
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return &Error{Op: "push", URL: r.safeURL, Err: fmt.Errorf("refspec %q: %w", s, err)}
		}
	}
	ctx, cancel := r.bound(ctx)
	defer cancel()
	proxy, release := git.ProxyOptions(ctx, r.req.URL)
	defer release()
	err := r.repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName: "origin", RefSpecs: specs, Auth: r.auth, CABundle: r.req.Credentials.CABundle,
		ProxyOptions: proxy, Options: r.req.PushOptions,
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return nil
	case isRejected(err):
		return fmt.Errorf("%w: %v", errRejected, err)
	}
	return &Error{Op: "push to branch " + r.req.pushBranch(), URL: r.safeURL, Err: git.Classify(ctx, err)}
}

// isRejected reports a push refused because the remote branch moved: the
// client's own fast-forward check, or the server's (a lost race).
func isRejected(err error) bool {
	if errors.Is(err, gogit.ErrNonFastForwardUpdate) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref", "stale info", "failed to lock"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
