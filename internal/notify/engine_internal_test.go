package notify

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNewEngineDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Options
		want Options
	}{
		{"zero options take the defaults", Options{},
			Options{QueueSize: 1024, Attempts: 6, Backoff: time.Second, MaxBackoff: time.Minute}},
		{"given values stay", Options{QueueSize: 5, Attempts: 2, Backoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
			Options{QueueSize: 5, Attempts: 2, Backoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}},
		{"a cap below the backoff is lifted to the default cap", Options{Backoff: time.Second, MaxBackoff: time.Millisecond},
			Options{QueueSize: 1024, Attempts: 6, Backoff: time.Second, MaxBackoff: time.Minute}},
		{"a backoff over the default cap caps itself", Options{Backoff: 2 * time.Minute},
			Options{QueueSize: 1024, Attempts: 6, Backoff: 2 * time.Minute, MaxBackoff: 2 * time.Minute}},
		{"negative values take the defaults", Options{QueueSize: -1, Attempts: -1, Backoff: -time.Second},
			Options{QueueSize: 1024, Attempts: 6, Backoff: time.Second, MaxBackoff: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(nil, tc.in)
			if diff := cmp.Diff(tc.want, e.opts, cmpopts.IgnoreFields(Options{}, "Log")); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if cap(e.events) != tc.want.QueueSize {
				t.Errorf("event queue holds %d, want %d", cap(e.events), tc.want.QueueSize)
			}
		})
	}
}

func TestEngineBackoff(t *testing.T) {
	e := NewEngine(nil, Options{Backoff: time.Second, MaxBackoff: 10 * time.Second})
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, e.backoff(n))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if sleep(ctx, time.Hour) {
		t.Error("sleep with an ended context reported a full wait")
	}
	if !sleep(context.Background(), 0) {
		t.Error("a zero sleep reported an interruption")
	}
}

func TestEnqueueDropsWhenFull(t *testing.T) {
	e := NewEngine(nil, Options{QueueSize: 2})
	for i := range 5 {
		e.Enqueue(Event{Reason: string(rune('a' + i))})
	}
	if len(e.events) != 2 {
		t.Fatalf("%d events queued, want the queue's 2", len(e.events))
	}
	if first := <-e.events; first.Reason != "a" {
		t.Errorf("first queued event %q, want the oldest kept", first.Reason)
	}
}

func TestPendingRoundTrip(t *testing.T) {
	for _, kind := range []string{KindFailure, KindResolved} {
		t.Run(kind, func(t *testing.T) {
			m := webFailure()
			m.Kind = kind
			m.Event.Object.APIVersion = "flotilla.io/v1alpha1"
			m.Event.Time = m.Event.Time.Truncate(time.Second) // metav1.Time's precision in status
			p := toPending("id-1", m)
			if p.ID != "id-1" || p.Object != "Stack/apps/web" {
				t.Errorf("pending id %q object %q", p.ID, p.Object)
			}
			back := fromPending(p, m.Metadata)
			m.Event.Ready = kind == KindResolved
			if diff := cmp.Diff(m, back); diff != "" {
				t.Errorf("message after a restart (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPendingOfAClusterScopedObject(t *testing.T) {
	m := webFailure()
	m.Event.Object.Namespace = ""
	back := fromPending(toPending("id", m), nil)
	if got := back.Event.Object; got.Kind != "Stack" || got.Namespace != "" || got.Name != "web" {
		t.Errorf("object after the round trip = %+v, want Stack //web", got)
	}
}

func TestNeedsRecord(t *testing.T) {
	for kind, want := range map[string]bool{KindFailure: true, KindResolved: true, KindInfo: false} {
		if got := needsRecord(&Message{Kind: kind}); got != want {
			t.Errorf("needsRecord(%s) = %v, want %v", kind, got, want)
		}
	}
	if a, b := newMessageID(), newMessageID(); a == "" || a == b {
		t.Errorf("message ids %q and %q, want two different ones", a, b)
	}
}
