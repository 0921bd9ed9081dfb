package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errLost = errors.New("the branch moved")

func isLost(err error) bool { return errors.Is(err, errLost) }

func TestRetry(t *testing.T) {
	errOther := errors.New("authentication required")
	cases := []struct {
		name string
		// results are what op returns at each attempt.
		results  []error
		attempts int
		// calls is how many times op must run.
		calls     int
		want      error
		exhausted bool
	}{
		{name: "first attempt lands", results: []error{nil}, attempts: 3, calls: 1},
		{name: "lands after two lost races", results: []error{errLost, errLost, nil}, attempts: 3, calls: 3},
		{name: "an error not worth retrying ends at once", results: []error{errLost, errOther}, attempts: 5, calls: 2, want: errOther},
		{name: "every attempt lost", results: []error{errLost, errLost, errLost}, attempts: 3, calls: 3, want: errLost, exhausted: true},
		{name: "zero attempts still try once", results: []error{errLost}, attempts: 0, calls: 1, want: errLost, exhausted: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Retry(context.Background(), Policy{Attempts: tc.attempts, Base: time.Microsecond}, isLost, func(attempt int) error {
				calls++
				if attempt != calls {
					t.Errorf("attempt %d at call %d", attempt, calls)
				}
				return tc.results[attempt-1]
			})
			if calls != tc.calls {
				t.Errorf("op ran %d times, want %d", calls, tc.calls)
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Retry = %v, want %v", err, tc.want)
			}
			var ex *ExhaustedError
			if errors.As(err, &ex) != tc.exhausted {
				t.Errorf("Retry = %v, exhausted = %v, want %v", err, !tc.exhausted, tc.exhausted)
			}
			if tc.exhausted && ex.Attempts != max(tc.attempts, 1) {
				t.Errorf("ExhaustedError.Attempts = %d, want %d", ex.Attempts, max(tc.attempts, 1))
			}
		})
	}
}

func TestRetryStopsWaitingWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Retry(ctx, Policy{Attempts: 5, Base: time.Hour}, isLost, func(int) error {
		calls++
		cancel()
		return errLost
	})
	var in *InterruptedError
	if !errors.As(err, &in) || !errors.Is(err, context.Canceled) || !errors.Is(in.Last, errLost) {
		t.Fatalf("Retry = %v, want an *InterruptedError of context.Canceled after %v", err, errLost)
	}
	if calls != 1 {
		t.Errorf("op ran %d times after the context ended, want 1", calls)
	}
}

func TestPolicyWaitDoublesWithJitterUnderTheCap(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	cases := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 100 * time.Millisecond, 150 * time.Millisecond},
		{2, 200 * time.Millisecond, 300 * time.Millisecond},
		{3, 400 * time.Millisecond, 600 * time.Millisecond},
		{5, time.Second, time.Second},
		{80, time.Second, time.Second},
	}
	for _, tc := range cases {
		for range 20 {
			if d := p.wait(tc.attempt); d < tc.min || d > tc.max {
				t.Errorf("wait(%d) = %s, want within [%s, %s]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}
