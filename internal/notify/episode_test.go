package notify_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

var t0 = time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)

func stackEvent(name, severity, reason, revision string, at time.Duration) notify.Event {
	return notify.Event{
		Object:   notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: name},
		Severity: severity, Reason: reason, Message: reason + " of " + name, Revision: revision, Time: t0.Add(at),
	}
}

func failEvent(name string, at time.Duration) notify.Event {
	return stackEvent(name, notify.SeverityError, "BuildFailed", "main@sha1:bad", at)
}

func okEvent(name string, at time.Duration) notify.Event {
	return stackEvent(name, notify.SeverityInfo, "Succeeded", "main@sha1:fix", at)
}

// Decide turns a run of events into messages; each case lists the kinds
// of message sent, in order ("" for none).
func TestDecide(t *testing.T) {
	drift := stackEvent("web", notify.SeverityInfo, "Drift", "main@sha1:bad", 5*time.Second)
	cases := []struct {
		name     string
		policy   notify.Policy
		wantInfo bool
		events   []notify.Event
		want     []string
	}{
		{
			name:   "a failure alerts once, its retries do not, the recovery resolves",
			events: []notify.Event{failEvent("web", 0), failEvent("web", time.Minute), failEvent("web", 2*time.Minute), okEvent("web", 3*time.Minute)},
			want:   []string{notify.KindFailure, "", "", notify.KindResolved},
		},
		{
			name:   "a second failure episode alerts again",
			events: []notify.Event{failEvent("web", 0), okEvent("web", time.Minute), failEvent("web", 2*time.Minute)},
			want:   []string{notify.KindFailure, notify.KindResolved, notify.KindFailure},
		},
		{
			name:   "a recovery without a failure is no resolved message",
			events: []notify.Event{okEvent("web", 0)},
			want:   []string{""},
		},
		{
			name:     "info events are sent when the Alert wants them",
			wantInfo: true,
			events:   []notify.Event{okEvent("web", 0), failEvent("web", time.Second), drift, okEvent("web", time.Minute)},
			want:     []string{notify.KindInfo, notify.KindFailure, notify.KindInfo, notify.KindResolved},
		},
		{
			name:   "a normal event that is no recovery leaves the episode open",
			events: []notify.Event{failEvent("web", 0), drift, okEvent("web", time.Minute)},
			want:   []string{notify.KindFailure, "", notify.KindResolved},
		},
		{
			name:   "objects failing on one revision are one episode with groupBy revision",
			policy: notify.Policy{GroupBy: []string{"revision"}},
			events: []notify.Event{failEvent("web", 0), failEvent("api", time.Second), okEvent("web", time.Minute), okEvent("api", time.Minute)},
			want:   []string{notify.KindFailure, "", "", notify.KindResolved},
		},
		{
			name:   "without groupBy each object is its own episode",
			events: []notify.Event{failEvent("web", 0), failEvent("api", time.Second), okEvent("web", time.Minute), okEvent("api", time.Minute)},
			want:   []string{notify.KindFailure, notify.KindFailure, notify.KindResolved, notify.KindResolved},
		},
		{
			name:   "a threshold holds the alert until count failures within window",
			policy: notify.Policy{GroupBy: []string{"kind"}, Threshold: &v1alpha1.AlertThreshold{Count: 3, Window: metav1.Duration{Duration: time.Minute}}},
			events: []notify.Event{failEvent("a", 0), failEvent("b", 10*time.Second), failEvent("c", 20*time.Second), failEvent("d", 30*time.Second)},
			want:   []string{"", "", notify.KindFailure, ""},
		},
		{
			name:   "failures spread wider than the window never alert, nor resolve",
			policy: notify.Policy{GroupBy: []string{"kind"}, Threshold: &v1alpha1.AlertThreshold{Count: 2, Window: metav1.Duration{Duration: time.Minute}}},
			events: []notify.Event{failEvent("a", 0), failEvent("b", 2*time.Minute), okEvent("a", 3*time.Minute), okEvent("b", 3*time.Minute)},
			want:   []string{"", "", "", ""},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var eps []v1alpha1.AlertEpisode
			var got []string
			for _, ev := range tc.events {
				var msg *notify.Message
				eps, msg = notify.Decide(eps, tc.policy, ev, tc.wantInfo)
				if msg == nil {
					got = append(got, "")
					continue
				}
				got = append(got, msg.Kind)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

// The episodes are the state an agent restart reads back: deciding from a
// copy of them continues exactly where the first left off.
func TestDecideContinuesFromStoredEpisodes(t *testing.T) {
	eps, msg := notify.Decide(nil, notify.Policy{}, failEvent("web", 0), false)
	if msg == nil || msg.Kind != notify.KindFailure {
		t.Fatalf("first failure: %+v", msg)
	}
	stored := append([]v1alpha1.AlertEpisode(nil), eps...) // what the Alert's status holds
	if _, msg := notify.Decide(stored, notify.Policy{}, failEvent("web", time.Hour), false); msg != nil {
		t.Errorf("the same failure after a restart sent %s", msg.Kind)
	}
	if _, msg := notify.Decide(stored, notify.Policy{}, okEvent("web", time.Hour), false); msg == nil || msg.Kind != notify.KindResolved {
		t.Errorf("the recovery after a restart sent %+v, want resolved", msg)
	}
}

// Episode state stays bounded however many objects fail.
func TestDecideBoundsEpisodes(t *testing.T) {
	var eps []v1alpha1.AlertEpisode
	for i := range 500 {
		eps, _ = notify.Decide(eps, notify.Policy{}, failEvent(string(rune('a'+i%26))+time.Duration(i).String(), 0), false)
	}
	if len(eps) > 100 {
		t.Errorf("%d episodes kept, want at most 100", len(eps))
	}
}

func TestGroupKey(t *testing.T) {
	ev := failEvent("web", 0)
	cases := map[string][]string{
		"Stack/apps/web":                nil,
		"revision=main@sha1:bad":        {"revision"},
		"kind=Stack,reason=BuildFailed": {"kind", "reason"},
		"namespace=apps,name=web":       {"namespace", "name"},
	}
	for want, by := range cases {
		if got := notify.GroupKey(by, ev); got != want {
			t.Errorf("GroupKey(%v) = %q, want %q", by, got, want)
		}
	}
}
