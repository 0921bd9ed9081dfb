package backoff

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestErrorTextsAndCauses(t *testing.T) {
	ex := &ExhaustedError{Attempts: 3, Last: errLost}
	if got, want := ex.Error(), "failed 3 times: the branch moved"; got != want {
		t.Errorf("ExhaustedError = %q, want %q", got, want)
	}
	if !errors.Is(ex, errLost) {
		t.Error("ExhaustedError does not unwrap to the last attempt's error")
	}
	in := &InterruptedError{Err: context.DeadlineExceeded, Last: errLost}
	if got, want := in.Error(), "context deadline exceeded while waiting to retry after: the branch moved"; got != want {
		t.Errorf("InterruptedError = %q, want %q", got, want)
	}
	if !errors.Is(in, context.DeadlineExceeded) || errors.Is(in, errLost) {
		t.Error("InterruptedError must unwrap to the context's error only")
	}
}

func TestRetryRunsTheFirstAttemptEvenWithAnEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := Retry(ctx, Policy{Attempts: 3, Base: time.Hour}, isLost, func(int) error {
		calls++
		return nil
	})
	if err != nil || calls != 1 {
		t.Errorf("Retry = %v after %d calls, want the one attempt to land", err, calls)
	}
}

func TestRetryReportsTheDeadline(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := Retry(ctx, Policy{Attempts: 2, Base: time.Hour}, isLost, func(int) error { return errLost })
	var in *InterruptedError
	if !errors.As(err, &in) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(in.Last, errLost) {
		t.Errorf("Retry = %v, want an *InterruptedError of the deadline after %v", err, errLost)
	}
}

func TestRetryDoesNotWaitAfterTheLastAttempt(t *testing.T) {
	// An hour's wait after the last attempt would hang the test: the
	// exhausted error comes at once.
	err := Retry(context.Background(), Policy{Attempts: 1, Base: time.Hour}, isLost, func(int) error { return errLost })
	var ex *ExhaustedError
	if !errors.As(err, &ex) || ex.Attempts != 1 {
		t.Errorf("Retry = %v, want an *ExhaustedError after 1 attempt", err)
	}
}

func TestPolicyWaitEdges(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Policy
		attempt  int
		min, max time.Duration
	}{
		{"no base, no wait", Policy{}, 3, 0, 0},
		{"a cap below the base caps the first wait", Policy{Base: time.Minute, Max: time.Second}, 1, time.Second, time.Second},
		{"no cap and many attempts do not overflow", Policy{Base: time.Second}, 200, time.Duration(math.MaxInt64 / 4), time.Duration(math.MaxInt64)},
		{"one nanosecond doubles", Policy{Base: time.Nanosecond}, 4, 8 * time.Nanosecond, 12 * time.Nanosecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				if d := tc.p.wait(tc.attempt); d < tc.min || d > tc.max {
					t.Fatalf("wait(%d) = %d, want within [%d, %d]", tc.attempt, d, tc.min, tc.max)
				}
			}
		})
	}
}
