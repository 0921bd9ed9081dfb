package backoff

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently to retry.
type Policy struct {
	// Attempts is the most calls of the operation, the first included;
	// less than one counts as one.
	Attempts int
	// Base is the wait after the first failure; it doubles after each
	// further one, plus up to half again at random so racing writers
	// spread out.
	Base time.Duration
	// Max caps one wait; zero means no cap.
	Max time.Duration
}

// ExhaustedError is an operation that still failed with a retryable error
// after every attempt the Policy allows.
type ExhaustedError struct {
	Attempts int
	// Last is the last attempt's error.
	Last error
}

// Error implements error.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("failed %d times: %v", e.Attempts, e.Last)
}

// Unwrap returns the last attempt's error.
func (e *ExhaustedError) Unwrap() error { return e.Last }

// InterruptedError is a retry cut short: the context ended while waiting
// for the next attempt.
type InterruptedError struct {
	// Err is the context's error.
	Err error
	// Last is the last attempt's error.
	Last error
}

// Error implements error.
func (e *InterruptedError) Error() string {
	return fmt.Sprintf("%v while waiting to retry after: %v", e.Err, e.Last)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Retry calls op with the attempt number (from 1) until it returns nil or
// an error retryable does not accept, which Retry returns as is. When the
// attempts run out it returns an *ExhaustedError; when ctx ends during a
// wait, an *InterruptedError.
func Retry(ctx context.Context, p Policy, retryable func(error) bool, op func(attempt int) error) error {
	attempts := max(p.Attempts, 1)
	for attempt := 1; ; attempt++ {
		err := op(attempt)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= attempts {
			return &ExhaustedError{Attempts: attempts, Last: err}
		}
		select {
		case <-time.After(p.wait(attempt)):
		case <-ctx.Done():
			return &InterruptedError{Err: ctx.Err(), Last: err}
		}
	}
}

// wait is the pause after the attempt-th failure.
func (p Policy) wait(attempt int) time.Duration {
	d := p.Base
	for i := 1; i < attempt && d < math.MaxInt64/4 && (p.Max == 0 || d < p.Max); i++ {
		d *= 2 // a shift would overflow to zero past 63 doublings
	}
	d += time.Duration(rand.Int64N(int64(d)/2 + 1))
	if p.Max > 0 {
		d = min(d, p.Max)
	}
	return d
}
