package apply

import (
	"errors"
	"fmt"
	"sort"
	"strings"

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

// Error implements error.
func (e *ValidationError) Error() string {
	msgs := make([]string, 0, len(e.Failures))
	for _, f := range e.Failures {
		msgs = append(msgs, f.Object.String()+": "+reasonOf(f.Err))
	}
	sort.Strings(msgs)
	applied := "nothing was applied"
	switch {
	case e.Written > 0:
		applied = fmt.Sprintf("nothing else was applied (only the %d CRDs and Namespaces the dry-run needed, which could not be rolled back)", e.Written)
	case e.RolledBack > 0:
		applied = fmt.Sprintf("nothing was applied (the %d CRDs and Namespaces the dry-run needed were rolled back)", e.RolledBack)
	}
	return fmt.Sprintf("server-side dry-run refused %d object(s), %s: %s", len(msgs), applied, strings.Join(msgs, "; "))
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

// reasonOf returns the message for an error: Flotilla's own typed errors
// whole (they carry the advice), else the API server's message without the
// request boilerplate client-go adds.
func reasonOf(err error) string {
	var imm *ImmutableError
	var own *OwnershipError
	switch {
	case errors.As(err, &imm):
		return imm.Error()
	case errors.As(err, &own):
		return own.Error()
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
