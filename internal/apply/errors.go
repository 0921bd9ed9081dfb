package apply

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ObjectError is a failed operation on one object.
type ObjectError struct {
	Object ObjMetadata
	// Op is what was attempted: "dry-run", "apply", "delete", "recreate".
	Op  string
	Err error
}

// Error implements error.
func (e *ObjectError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Op, e.Object, reasonOf(e.Err))
}

// Unwrap returns the cause.
func (e *ObjectError) Unwrap() error { return e.Err }

// ValidationError lists every object the server-side dry-run refused.
// Nothing of the set stays written: the CRDs and Namespaces that other
// objects needed for their own dry-run are rolled back (RolledBack counts
// them; Written those whose roll back failed).
type ValidationError struct {
	Failures []*ObjectError
	// Written counts the prerequisites still written: those whose roll
	// back failed.
	Written int
	// RolledBack counts the prerequisites written for the dry-run and then
	// put back as they were.
	RolledBack int
}

// Error implements error. A dry-run the API server could not answer (a
// 503, a timeout, a lost connection) is not a refusal, and the message
// says so: the objects may well be valid.
func (e *ValidationError) Error() string {
	msgs := make([]string, 0, len(e.Failures))
	unanswered := 0
	for _, f := range e.Failures {
		msgs = append(msgs, f.Object.String()+": "+reasonOf(f.Err))
		if IsUnavailable(f.Err) {
			unanswered++
		}
	}
	sort.Strings(msgs)
	applied := "nothing was applied"
	switch {
	case e.Written > 0:
		applied = fmt.Sprintf("nothing else was applied (only the %d CRDs and Namespaces the dry-run needed, which could not be rolled back)", e.Written)
	case e.RolledBack > 0:
		applied = fmt.Sprintf("nothing was applied (the %d CRDs and Namespaces the dry-run needed were rolled back)", e.RolledBack)
	}
	var what string
	switch refused := len(msgs) - unanswered; {
	case unanswered == 0:
		what = fmt.Sprintf("server-side dry-run refused %d object(s)", refused)
	case refused == 0:
		what = fmt.Sprintf("the API server could not answer the server-side dry-run of %d object(s), it is retried", unanswered)
	default:
		what = fmt.Sprintf("server-side dry-run refused %d object(s), and the API server could not answer it for %d more", refused, unanswered)
	}
	return fmt.Sprintf("%s, %s: %s", what, applied, strings.Join(msgs, "; "))
}

// Unavailable reports a dry-run that failed only because the API server
// could not answer it: every failure is IsUnavailable. Nothing was found
// wrong with the objects, and a retry may pass.
func (e *ValidationError) Unavailable() bool {
	for _, f := range e.Failures {
		if !IsUnavailable(f.Err) {
			return false
		}
	}
	return len(e.Failures) > 0
}

// Unwrap returns the per-object failures, for errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, 0, len(e.Failures))
	for _, f := range e.Failures {
		out = append(out, f)
	}
	return out
}

// ErrImmutable marks a change to a field that cannot change in place.
var ErrImmutable = errors.New("immutable field changed")

// ImmutableError is a change to an immutable field, without force.
type ImmutableError struct {
	Fields []string
	Err    error
	// NotRecreated says why force does not recreate this object, when it
	// does not (see neverRecreated).
	NotRecreated string
}

// Error implements error.
func (e *ImmutableError) Error() string {
	if e.NotRecreated != "" {
		return fmt.Sprintf("%s %s (%s; change it by hand, or create a new one under another name)", ErrImmutable, strings.Join(e.Fields, ", "), e.NotRecreated)
	}
	return fmt.Sprintf("%s %s (set force: true on the Stack to delete and recreate the object)", ErrImmutable, strings.Join(e.Fields, ", "))
}

// Unwrap returns ErrImmutable and the server's error.
func (e *ImmutableError) Unwrap() []error { return []error{ErrImmutable, e.Err} }

// ErrOwnedElsewhere marks an object another Stack's inventory holds.
var ErrOwnedElsewhere = errors.New("owned by another Stack")

// OwnershipError is an object that carries another owner's labels.
type OwnershipError struct {
	Owner string
}

// Error implements error.
func (e *OwnershipError) Error() string {
	return fmt.Sprintf("%s: it belongs to Stack %s; remove it from one of the two", ErrOwnedElsewhere, e.Owner)
}

// Unwrap returns ErrOwnedElsewhere.
func (e *OwnershipError) Unwrap() error { return ErrOwnedElsewhere }

// Reason returns the message for an error as the engine words it: its own
// typed errors whole, the API server's message without client-go's request
// boilerplate otherwise.
func Reason(err error) string { return reasonOf(err) }

// IsUnavailable reports an error that says nothing about the objects:
// the API server (or a proxy before it) was unavailable, overloaded or too
// slow, or the connection to it was lost or refused. A retry may pass.
func IsUnavailable(err error) bool {
	return apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || connectionReason(err) != ""
}

// connectionReason words a lost or refused connection to the API server,
// or returns "" for any other error. client-go reports one as a bare
// "EOF" or "connection reset by peer" inside the request's URL.
func connectionReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "connection to the API server lost: " + innermost(err).Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "cannot connect to the API server: " + innermost(err).Error()
	}
	return ""
}

// innermost returns the last error of err's chain of single causes.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// reasonOf returns the message for an error: Flotilla's own typed errors
// whole (they carry the advice), a lost connection named as one, else the
// API server's message without the request boilerplate client-go adds.
func reasonOf(err error) string {
	var imm *ImmutableError
	var own *OwnershipError
	switch {
	case errors.As(err, &imm):
		return imm.Error()
	case errors.As(err, &own):
		return own.Error()
	}
	if msg := connectionReason(err); msg != "" {
		return msg
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}

// immutableFields returns the fields an Invalid error calls immutable.
func immutableFields(err error) []string {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
		return nil
	}
	var fields []string
	if d := status.Status().Details; d != nil {
		for _, c := range d.Causes {
			if isImmutableMessage(c.Message) {
				fields = append(fields, c.Field)
			}
		}
	}
	if len(fields) == 0 && isImmutableMessage(status.Status().Message) {
		fields = append(fields, "(field not named by the server)")
	}
	return fields
}

// isImmutableMessage recognises the API server's wordings for a field that
// cannot change in place.
func isImmutableMessage(msg string) bool {
	return strings.Contains(msg, "immutable") || strings.Contains(msg, "may not change once set") ||
		strings.Contains(msg, "cannot change")
}
