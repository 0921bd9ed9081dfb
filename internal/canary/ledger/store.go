package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/flotilla-io/flotilla/internal/backoff"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// ErrPushRejected means the server kept refusing the notes push because
// other writers kept moving refs/notes/flotilla, MaxAttempts times.
var ErrPushRejected = errors.New("push of refs/notes/flotilla rejected")

// Error is a failed ledger operation on one repository; URL is free of
// credentials and Err's text is redacted.
type Error struct {
	// Op is what was attempted, e.g. "push refs/notes/flotilla".
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

// Remote is a repository and how to reach it.
type Remote struct {
	// URL of the repository (https, ssh, file, or a local path).
	URL string
	// Credentials of the GitRepository's secretRef.
	Credentials git.Credentials
	// Timeout bounds each fetch and push; 0 means only ctx does.
	Timeout time.Duration
}

// Store fetches and pushes refs/notes/flotilla of repositories, keeping
// one bare notes-only clone per repository under its directory.
type Store struct {
	dir         string
	maxBytes    int64
	maxRepos    int
	maxAttempts int
	backoff     time.Duration
	author      Signature
	beforePush  func(attempt int)

	mu    sync.Mutex
	locks map[string]chan struct{}
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithDir keeps the notes clones under dir (the agent's data directory);
// without it each operation fetches into memory.
func WithDir(dir string) StoreOption { return func(s *Store) { s.dir = dir } }

// WithCacheBounds bounds the clones: one larger than maxBytes is removed
// after use (the next write fetches it again), and beyond maxRepos clones
// the least recently used go. Defaults: 64 MiB and 32.
func WithCacheBounds(maxBytes int64, maxRepos int) StoreOption {
	return func(s *Store) { s.maxBytes, s.maxRepos = maxBytes, max(maxRepos, 1) }
}

// WithMaxAttempts sets how many pushes a rejected append tries in all
// (default 6).
func WithMaxAttempts(n int) StoreOption { return func(s *Store) { s.maxAttempts = max(n, 1) } }

// WithBackoff sets the first wait after a rejected push (default 200ms);
// it doubles each time, with jitter, up to 5s.
func WithBackoff(d time.Duration) StoreOption { return func(s *Store) { s.backoff = d } }

// WithAuthor sets who commits to the notes ref (default Flotilla
// <flotilla@flotilla.io>).
func WithAuthor(name, email string) StoreOption {
	return func(s *Store) { s.author = Signature{Name: name, Email: email} }
}

// WithBeforePush runs f before each push attempt; tests use it to make
// writers race.
func WithBeforePush(f func(attempt int)) StoreOption { return func(s *Store) { s.beforePush = f } }

// NewStore returns a Store.
func NewStore(opts ...StoreOption) *Store {
	s := &Store{maxBytes: 64 << 20, maxRepos: 32, maxAttempts: 6, backoff: 200 * time.Millisecond,
		author: Signature{Name: "Flotilla", Email: "flotilla@flotilla.io"}, locks: map[string]chan struct{}{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Append adds lines to the note of commit on the remote's
// refs/notes/flotilla, keeping every line already there, and pushes. A
// rejected push is fetched and applied again with backoff.
func (s *Store) Append(ctx context.Context, r Remote, commit, subject string, lines []string) error {
	if !isHex(commit) || len(commit) != 40 {
		return fmt.Errorf("commit %q is not a full hex SHA-1", commit)
	}
	op, err := s.open(ctx, r)
	if err != nil {
		return err
	}
	defer op.close()
	policy := backoff.Policy{Attempts: s.maxAttempts, Base: s.backoff, Max: 5 * time.Second}
	err = backoff.Retry(ctx, policy, isRejected, func(attempt int) error {
		return op.appendOnce(ctx, commit, subject, lines, s.author, func() {
			if s.beforePush != nil {
				s.beforePush(attempt)
			}
		})
	})
	var exhausted *backoff.ExhaustedError
	var interrupted *backoff.InterruptedError
	switch {
	case errors.As(err, &exhausted):
		return op.fail("push refs/notes/flotilla", fmt.Errorf("%w %d times because other writers kept moving it: %v", ErrPushRejected, exhausted.Attempts, exhausted.Last))
	case errors.As(err, &interrupted):
		return op.fail("retry push refs/notes/flotilla", interrupted.Err)
	}
	return err
}

// isRejected reports a push refused because another writer moved the ref.
func isRejected(err error) bool { return errors.Is(err, errRejected) }

// Notes fetches the remote's refs/notes/flotilla and returns every note by
// annotated commit (none when the ref does not exist yet).
func (s *Store) Notes(ctx context.Context, r Remote) (map[string]string, error) {
	op, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	defer op.close()
	head, err := op.fetch(ctx)
	if err != nil {
		return nil, err
	}
	tree, err := notesTree(op.repo.Storer, head)
	if err == nil {
		var notes map[string]string
		if notes, err = allNotes(tree); err == nil {
			return notes, nil
		}
	}
	return nil, op.fail("read refs/notes/flotilla", err)
}

// operation is one Append or Notes on one repository, holding its lock.
type operation struct {
	remote  Remote
	repo    *gogit.Repository
	auth    transport.AuthMethod
	red     *redact.Redactor
	safeURL string
	release func()
}

// open takes the repository's lock and opens (or creates) its clone.
func (s *Store) open(ctx context.Context, r Remote) (*operation, error) {
	red := redact.New()
	red.Add(r.Credentials.SecretValues()...)
	op := &operation{remote: r, red: red, safeURL: redact.URL(r.URL)}
	auth, err := git.Auth(r.URL, r.Credentials)
	if err != nil {
		return nil, op.fail("prepare credentials", err)
	}
	op.auth = auth
	unlock, err := s.lock(ctx, r.URL)
	if err != nil {
		return nil, op.fail("wait for the other writer", err)
	}
	repo, dir, err := s.clone(r.URL)
	if err != nil {
		unlock()
		return nil, op.fail("prepare the notes clone", err)
	}
	op.repo = repo
	op.release = func() {
		s.bound(dir)
		unlock()
	}
	return op, nil
}

func (op *operation) close() { op.release() }

// fail wraps err with the operation and the credential-free URL; the
// cause's text goes through the redactor.
func (op *operation) fail(what string, err error) error {
	return &Error{Op: what, URL: op.safeURL, Err: &redacted{red: op.red, err: err}}
}

// redacted is an error whose text is redacted; it unwraps to the cause.
type redacted struct {
	red *redact.Redactor
	err error
}

func (e *redacted) Error() string { return e.red.Error(e.err) }
func (e *redacted) Unwrap() error { return e.err }

// lock takes the lock of key, honouring ctx.
func (s *Store) lock(ctx context.Context, key string) (func(), error) {
	s.mu.Lock()
	ch, ok := s.locks[key]
	if !ok {
		ch = make(chan struct{}, 1)
		s.locks[key] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// clone opens the kept bare clone of url, or makes one; without a
// directory, an in-memory one.
func (s *Store) clone(url string) (*gogit.Repository, string, error) {
	if s.dir == "" {
		repo, err := gogit.Init(memory.NewStorage(), nil)
		if err == nil {
			_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
		}
		return repo, "", err
	}
	sum := sha256.Sum256([]byte(url))
	dir := filepath.Join(s.dir, hex.EncodeToString(sum[:12]))
	if repo, err := gogit.PlainOpen(dir); err == nil {
		now := time.Now()
		_ = os.Chtimes(dir, now, now) // recently used
		return repo, dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	repo, err := gogit.PlainInit(dir, true)
	if err == nil {
		_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
	}
	return repo, dir, err
}

// bound removes dir when it grew past maxBytes, and the least recently
// used clones beyond maxRepos.
func (s *Store) bound(dir string) {
	if dir == "" {
		return
	}
	if size(dir) > s.maxBytes {
		_ = os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil || len(entries) <= s.maxRepos {
		return
	}
	type used struct {
		path string
		at   time.Time
	}
	var all []used
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.IsDir() {
			all = append(all, used{filepath.Join(s.dir, e.Name()), info.ModTime()})
		}
	}
	slices.SortFunc(all, func(a, b used) int { return b.at.Compare(a.at) })
	for _, u := range all[min(s.maxRepos, len(all)):] {
		if u.path != dir {
			_ = os.RemoveAll(u.path)
		}
	}
}

func size(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// bounded applies the remote's timeout to one network operation.
func (op *operation) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if op.remote.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, op.remote.Timeout)
}

// fetch mirrors the remote's refs/notes/flotilla into the clone and
// returns its head, zero when the remote has none.
func (op *operation) fetch(ctx context.Context) (plumbing.Hash, error) {
	ctx, cancel := op.bounded(ctx)
	defer cancel()
	proxy, release := git.ProxyOptions(ctx, op.remote.URL)
	defer release()
	err := op.repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName: "origin", RefSpecs: []config.RefSpec{config.RefSpec("+" + NotesRef + ":" + NotesRef)},
		Auth: op.auth, CABundle: op.remote.Credentials.CABundle, ProxyOptions: proxy, Tags: gogit.NoTags, Force: true,
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
	case errors.Is(err, gogit.NoMatchingRefSpecError{}), errors.Is(err, transport.ErrEmptyRemoteRepository):
		// No notes yet: forget any kept ones, the remote's word wins.
		if err := op.repo.Storer.RemoveReference(NotesRef); err != nil {
			return plumbing.ZeroHash, op.fail("fetch refs/notes/flotilla", err)
		}
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, op.fail("fetch refs/notes/flotilla", git.Classify(ctx, err))
	}
	ref, err := op.repo.Reference(NotesRef, true)
	if err != nil {
		return plumbing.ZeroHash, op.fail("fetch refs/notes/flotilla", err)
	}
	return ref.Hash(), nil
}

// errRejected marks a push refused because the notes ref moved.
var errRejected = errors.New("refs/notes/flotilla moved")

// appendOnce fetches the notes, adds the lines to commit's note, commits
// and pushes.
func (op *operation) appendOnce(ctx context.Context, commit, subject string, lines []string, author Signature, beforePush func()) error {
	head, err := op.fetch(ctx)
	if err != nil {
		return err
	}
	s := op.repo.Storer
	tree, err := notesTree(s, head)
	if err != nil {
		return op.fail("read refs/notes/flotilla", err)
	}
	note, path, err := readNote(tree, commit)
	if err != nil {
		return op.fail("read refs/notes/flotilla", err)
	}
	text, added := appendLines(note, lines)
	if !added {
		return nil // every line is there already: an earlier push landed
	}
	if path == nil {
		path = []string{commit}
	}
	treeHash, err := setNote(s, tree, path, text)
	if err != nil {
		return op.fail("write the note", err)
	}
	next, err := commitNotes(s, head, treeHash, author, subject)
	if err != nil {
		return op.fail("commit the note", err)
	}
	if err := s.SetReference(plumbing.NewHashReference(NotesRef, next)); err != nil {
		return op.fail("commit the note", err)
	}
	beforePush()
	return op.push(ctx)
}

// push sends refs/notes/flotilla, never forced.
func (op *operation) push(ctx context.Context) error {
	ctx, cancel := op.bounded(ctx)
	defer cancel()
	proxy, release := git.ProxyOptions(ctx, op.remote.URL)
	defer release()
	err := op.repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName: "origin", RefSpecs: []config.RefSpec{config.RefSpec(NotesRef + ":" + NotesRef)},
		Auth: op.auth, CABundle: op.remote.Credentials.CABundle, ProxyOptions: proxy,
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return nil
	case rejected(err):
		return fmt.Errorf("%w: %v", errRejected, err)
	}
	return op.fail("push refs/notes/flotilla", git.Classify(ctx, err))
}

// rejected reports a push refused because the ref moved: go-git's own
// fast-forward check, or the server's (a lost race).
func rejected(err error) bool {
	if errors.Is(err, gogit.ErrNonFastForwardUpdate) {
		return true
	}
	msg := err.Error()
	return slices.ContainsFunc([]string{"non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref", "stale info", "failed to lock"},
		func(s string) bool { return strings.Contains(msg, s) })
}

// LocalNotes returns every note of refs/notes/flotilla in the repository
// at path (a clone where `git fetch origin
// refs/notes/flotilla:refs/notes/flotilla` ran), by annotated commit.
func LocalNotes(path string) (map[string]string, error) {
	repo, err := gogit.PlainOpenWithOptions(path, &gogit.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("opening the repository at %s: %w", path, err)
	}
	ref, err := repo.Reference(NotesRef, true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s in %s: %w", NotesRef, path, err)
	}
	tree, err := notesTree(repo.Storer, ref.Hash())
	if err != nil {
		return nil, err
	}
	return allNotes(tree)
}
