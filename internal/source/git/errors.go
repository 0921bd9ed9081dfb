package git

import (
	"errors"
	"fmt"
)

// Sentinel causes a fetch can fail with; branch on them with errors.Is.
var (
	// ErrAuthentication means the server refused the credentials or asked for some.
	ErrAuthentication = errors.New("authentication failed")
	// ErrRefNotFound means the branch, tag, range or commit is not in the repository.
	ErrRefNotFound = errors.New("reference not found")
	// ErrRepositoryNotFound means the server has no repository at that URL.
	ErrRepositoryNotFound = errors.New("repository not found")
	// ErrUnreachable means the server could not be reached or timed out.
	ErrUnreachable = errors.New("server unreachable")
	// ErrTLS means the server's certificate is not trusted.
	ErrTLS = errors.New("TLS certificate not trusted (a private CA goes in the secret key ca.crt)")
	// ErrHostKey means the ssh server's host key is not the one in known_hosts.
	ErrHostKey = errors.New("ssh host key not trusted")
	// ErrTooLarge means the fetch brought more bytes than its cap
	// (FetchOptions.MaxSize); nothing of it is used.
	ErrTooLarge = errors.New("fetch exceeds the size limit")
)

// Error is a failed Git operation on one repository. URL is already free of
// credentials; Err's message may still hold library text and is redacted by
// the caller before it is shown.
type Error struct {
	// Op is what was attempted, e.g. "fetch branch main".
	Op string
	// URL is the repository URL, credentials stripped.
	URL string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s from %s: %v", e.Op, e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
