package controller

import (
	"errors"
	"fmt"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// secretError is a referenced Secret that does not exist.
type secretError struct {
	// kind is what is missing: "secret" unless set.
	kind string
	name string
	// field is the spec field that names it: spec.secretRef unless set.
	field string
}

// errFileURL refuses a file:// URL: it reads the agent's own file system,
// where every tenant's artifacts and caches are.
var errFileURL = errors.New("file:// URLs read the agent's own file system and are refused: serve the repository over https or ssh (an agent started with --allow-file-urls accepts them)")

func (e *secretError) Error() string {
	kind, field := e.kind, e.field
	if kind == "" {
		kind = "secret"
	}
	if field == "" {
		field = "spec.secretRef"
	}
	return kind + " " + e.name + " not found: create it, or fix or remove " + field
}

// storeError is a fetched revision that could not be stored.
type storeError struct {
	revision string
	err      error
}

func (e *storeError) Error() string { return "storing revision " + e.revision + ": " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// failureReason maps an error to a condition reason, and says whether only
// a change of spec or Secret can cure it (stalled) or a retry may.
func failureReason(err error) (reason string, stalled bool) {
	var se *secretError
	var st *storeError
	switch {
	case errors.As(err, &se):
		return v1alpha1.ReasonSecretNotFound, false
	case errors.Is(err, errFileURL):
		return v1alpha1.ReasonAccessDenied, true
	case errors.Is(err, git.ErrInvalidCredentials):
		return v1alpha1.ReasonAuthenticationFailed, true
	case errors.Is(err, git.ErrInvalidReference):
		return v1alpha1.ReasonInvalidSpec, true
	case errors.Is(err, git.ErrAuthentication), errors.Is(err, git.ErrHostKey), errors.Is(err, git.ErrTLS):
		return v1alpha1.ReasonAuthenticationFailed, false
	case errors.Is(err, git.ErrRefNotFound):
		return v1alpha1.ReasonRefNotFound, false
	case errors.As(err, &st):
		return v1alpha1.ReasonArtifactFailed, false
	default:
		return v1alpha1.ReasonGitOperationFailed, false
	}
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// failureHint says what to do about a failed fetch, naming the Secret or
// field to look at.
func failureHint(obj *v1alpha1.GitRepository, err error) string {
	secret := "spec.secretRef"
	if ref := obj.Spec.SecretRef; ref != nil {
		secret = "Secret " + obj.Namespace + "/" + ref.Name
	}
	switch {
	case errors.Is(err, git.ErrHostKey):
		return "check known_hosts in " + secret
	case errors.Is(err, git.ErrAuthentication) && obj.Spec.SecretRef == nil:
		return "the server wants credentials: set spec.secretRef to a Secret with them"
	case errors.Is(err, git.ErrAuthentication):
		return "check the credentials in " + secret
	case errors.Is(err, git.ErrRefNotFound):
		return "check spec.ref"
	case errors.Is(err, git.ErrTooLarge):
		return fmt.Sprintf("GitRepository %s/%s brings more than the agent's cap (--max-fetch-size): keep large files out of the repository, or raise the cap; retrying every %s",
			obj.Namespace, obj.Name, obj.Spec.Interval.Duration)
	case errors.Is(err, git.ErrUnreachable), errors.Is(err, git.ErrRepositoryNotFound):
		return "check spec.url and that the server is reachable; retrying every " + obj.Spec.Interval.Duration.String()
	}
	return ""
}
