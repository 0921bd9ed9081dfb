package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// The kinds of failure an *Error wraps; branch on them with errors.Is.
var (
	// ErrAuthentication: the registry refused the credentials, or wants some.
	ErrAuthentication = errors.New("the registry refused the credentials")
	// ErrUnreachable: no answer from the registry (DNS, connection, timeout).
	ErrUnreachable = errors.New("the registry cannot be reached")
	// ErrTLS: the registry's certificate is not trusted, or the TLS
	// handshake failed.
	ErrTLS = errors.New("the TLS handshake with the registry failed")
	// ErrNotFound: the registry has no such repository (or tag).
	ErrNotFound = errors.New("the registry has no such repository or tag")
	// ErrInvalidImage: the image name does not parse.
	ErrInvalidImage = errors.New("not an image repository such as registry.example.com/team/app")
	// ErrInvalidCertificate: the CA, client certificate or key do not parse.
	ErrInvalidCertificate = errors.New("invalid certificate")
	// ErrTooManyTags: the repository has more tags than the bound.
	ErrTooManyTags = errors.New("too many tags")
	// ErrRegistry: any other answer from the registry.
	ErrRegistry = errors.New("the registry answered with an error")
)

// Error is a failed operation on a registry. Its message names the
// operation, the image and the registry; the details of the underlying
// error are kept redacted, and only the kind (one of the Err values above)
// is reachable through errors.Is.
type Error struct {
	// Op is "list tags of" or "look up the digest of".
	Op string
	// Image is the repository (with :tag for a digest lookup).
	Image string
	// Registry is the registry's host[:port].
	Registry string
	// Kind is one of the Err values of this package.
	Kind error
	// Detail is the underlying error's message, redacted.
	Detail string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s at registry %s: %v", e.Op, e.Image, e.Registry, e.Kind)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the kind, so errors.Is(err, ErrAuthentication) works.
func (e *Error) Unwrap() error { return e.Kind }

// TooManyTagsError says how many tags a repository has beyond the bound.
type TooManyTagsError struct {
	// Image is the repository.
	Image string
	// Count is how many tags are left after the exclusion list.
	Count int
	// Max is the bound (spec.maxTags).
	Max int
}

func (e *TooManyTagsError) Error() string {
	return fmt.Sprintf("%s has %d tags after the exclusion list, more than maxTags %d: raise spec.maxTags or exclude tags with spec.exclusionList",
		e.Image, e.Count, e.Max)
}

// Unwrap returns ErrTooManyTags.
func (e *TooManyTagsError) Unwrap() error { return ErrTooManyTags }

// classify maps a go-containerregistry or network error to a kind.
func classify(err error) error {
	var terr *transport.Error
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr x509.CertificateInvalidError
	var rerr tls.RecordHeaderError
	var alert tls.AlertError
	var verr *tls.CertificateVerificationError
	var nerr net.Error
	switch {
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		return ErrAuthentication
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case errors.As(err, &uerr), errors.As(err, &herr), errors.As(err, &cerr), errors.As(err, &rerr),
		errors.As(err, &alert), errors.As(err, &verr),
		// crypto/tls returns several handshake failures as plain errors
		// ("tls: server selected unsupported protocol version"): no type
		// to match, only their prefix.
		strings.Contains(err.Error(), "tls: "):
		return ErrTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr):
		return ErrUnreachable
	case errors.As(err, &terr):
		return ErrRegistry
	default:
		return ErrUnreachable
	}
}

// fail builds the *Error of op on image, redacting err's message.
func (c *Client) fail(op, image string, err error) error {
	var tm *TooManyTagsError
	if errors.As(err, &tm) {
		return err
	}
	return &Error{
		Op: op, Image: image, Registry: c.repo.RegistryStr(),
		Kind:   classify(err),
		Detail: oneLine(c.red.Error(err)),
	}
}

// oneLine collapses whitespace, so a multi-line registry answer fits a
// condition message.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
