package v1alpha1_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// TestStackDurationsAreBounded covers Stacks stored before the CRD bounded
// their durations: the code bounds them again.
func TestStackDurationsAreBounded(t *testing.T) {
	d := func(v time.Duration) *metav1.Duration { return &metav1.Duration{Duration: v} }
	for _, tc := range []struct {
		name                   string
		interval               time.Duration
		retry, timeout         *metav1.Duration
		wantRetry, wantTimeout time.Duration
	}{
		{name: "defaults to the interval", interval: 5 * time.Minute, wantRetry: 5 * time.Minute, wantTimeout: 5 * time.Minute},
		{name: "retry of 1ms is raised to 1s", interval: time.Minute, retry: d(time.Millisecond), wantRetry: time.Second, wantTimeout: time.Minute},
		{name: "retry of 0s is raised to 1s", interval: time.Minute, retry: d(0), wantRetry: time.Second, wantTimeout: time.Minute},
		{name: "timeout of 0s is raised to 1s", interval: time.Minute, timeout: d(0), wantRetry: time.Minute, wantTimeout: time.Second},
		{name: "a day's interval retries daily and times out in an hour", interval: 48 * time.Hour, wantRetry: 24 * time.Hour, wantTimeout: time.Hour},
		{name: "explicit values within bounds stay", interval: time.Hour, retry: d(30 * time.Second), timeout: d(10 * time.Minute), wantRetry: 30 * time.Second, wantTimeout: 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Interval: metav1.Duration{Duration: tc.interval}, RetryInterval: tc.retry, Timeout: tc.timeout}}
			if got := st.RetryAfter(); got != tc.wantRetry {
				t.Errorf("RetryAfter() = %s, want %s", got, tc.wantRetry)
			}
			if got := st.ApplyTimeout(); got != tc.wantTimeout {
				t.Errorf("ApplyTimeout() = %s, want %s", got, tc.wantTimeout)
			}
		})
	}
}
