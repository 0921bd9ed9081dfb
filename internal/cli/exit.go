package cli

import (
	"errors"
	"fmt"
)

// Exit codes every verb keeps, so CI can branch on them.
const (
	// ExitOK: the verb did what it was asked; for diff and plan, no change.
	ExitOK = 0
	// ExitError: the verb failed; the message on stderr says why.
	ExitError = 1
)

// ExitCodeError ends a command with a code other than ExitError, e.g. diff's
// 1 for "different" or plan's 2 for "changes". Err, when not nil, is printed;
// a nil Err means the output already said everything.
type ExitCodeError struct {
	// Code is the process exit code.
	Code int
	// Err is the message to print on stderr, or nil for none.
	Err error
}

var _ error = (*ExitCodeError)(nil)

// Error returns Err's message, or the bare exit code when there is none.
func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *ExitCodeError) Unwrap() error { return e.Err }

// ExitCode is the process exit code for the error a command returned, and
// whether the error has a message worth printing.
func ExitCode(err error) (code int, print bool) {
	if err == nil {
		return ExitOK, false
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		return ec.Code, ec.Err != nil
	}
	return ExitError, true
}
