package notify_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

var byKind = notify.Policy{GroupBy: []string{"kind"}}

func TestDecideDoesNotChangeItsInput(t *testing.T) {
	eps, _ := notify.Decide(nil, byKind, failEvent("web", 0), false)
	stored := []v1alpha1.AlertEpisode{*eps[0].DeepCopy()}
	before := []v1alpha1.AlertEpisode{*eps[0].DeepCopy()}
	notify.Decide(stored, byKind, failEvent("api", time.Second), false)
	notify.Decide(stored, byKind, okEvent("web", time.Second), false)
	if diff := cmp.Diff(before, stored); diff != "" {
		t.Errorf("Decide changed the episodes it was given (-before +after):\n%s", diff)
	}
}

func TestDecideRecordsTheAlertedFailure(t *testing.T) {
	ev := failEvent("web", time.Minute)
	ev.Message = strings.Repeat("m", 2000)
	eps, msg := notify.Decide(nil, byKind, ev, false)
	if msg == nil || msg.Kind != notify.KindFailure {
		t.Fatalf("message %+v, want a failure", msg)
	}
	want := v1alpha1.AlertEpisode{
		Key: "kind=Stack", Since: metav1.NewTime(t0.Add(time.Minute)), Objects: []string{"Stack/apps/web"},
		Events: 1, Notified: true, Reason: "BuildFailed", Message: strings.Repeat("m", 1024) + "…",
	}
	if diff := cmp.Diff([]v1alpha1.AlertEpisode{want}, eps); diff != "" {
		t.Errorf("episodes (-want +got):\n%s", diff)
	}
	if msg.Event.Message != ev.Message {
		t.Error("the message sent was cut: only the stored episode is bounded")
	}
}

func TestDecideResolvesWhenTheLastObjectRecovers(t *testing.T) {
	var eps []v1alpha1.AlertEpisode
	var msgs []*notify.Message
	for _, ev := range []notify.Event{failEvent("web", 0), failEvent("api", time.Second), okEvent("api", time.Minute), okEvent("web", 2*time.Minute)} {
		var m *notify.Message
		eps, m = notify.Decide(eps, byKind, ev, false)
		msgs = append(msgs, m)
	}
	if msgs[0] == nil || !cmp.Equal(msgs[0].Objects, []string{"Stack/apps/web"}) {
		t.Errorf("the failure message names %v, want the first object", msgs[0])
	}
	if msgs[1] != nil || msgs[2] != nil {
		t.Errorf("messages while the episode is open: %v, %v; want none", msgs[1], msgs[2])
	}
	if msgs[3] == nil || msgs[3].Kind != notify.KindResolved || !cmp.Equal(msgs[3].Objects, []string{"Stack/apps/web"}) {
		t.Errorf("the last recovery sent %+v, want resolved naming the last object", msgs[3])
	}
	if len(eps) != 0 {
		t.Errorf("%d episodes left after every object recovered", len(eps))
	}
}

func TestDecideCapsTheObjectsOfAnEpisode(t *testing.T) {
	var eps []v1alpha1.AlertEpisode
	for i := range 60 {
		eps, _ = notify.Decide(eps, byKind, failEvent(fmt.Sprintf("s%02d", i), time.Duration(i)*time.Second), false)
	}
	if len(eps) != 1 || len(eps[0].Objects) != 50 {
		t.Fatalf("%d episodes, first with %d objects; want one episode of at most 50", len(eps), len(eps[0].Objects))
	}
	if eps[0].Objects[49] != "Stack/apps/s49" {
		t.Errorf("last object kept = %s, want the 50th to fail", eps[0].Objects[49])
	}
}

func TestDecideDropsTheOldestEpisodeWhenFull(t *testing.T) {
	var eps []v1alpha1.AlertEpisode
	for i := range 101 {
		eps, _ = notify.Decide(eps, notify.Policy{}, failEvent(fmt.Sprintf("s%03d", i), 0), false)
	}
	if len(eps) != 100 || eps[0].Key != "Stack/apps/s001" || eps[99].Key != "Stack/apps/s100" {
		t.Errorf("%d episodes from %s to %s; want 100 from s001 to s100", len(eps), eps[0].Key, eps[len(eps)-1].Key)
	}
	if _, msg := notify.Decide(eps, notify.Policy{}, okEvent("s000", time.Minute), false); msg != nil {
		t.Errorf("the dropped episode's recovery sent %s", msg.Kind)
	}
}

func TestDecideThresholds(t *testing.T) {
	minute := metav1.Duration{Duration: time.Minute}
	for _, tc := range []struct {
		name      string
		threshold *v1alpha1.AlertThreshold
		at        []time.Duration
		want      []string
	}{
		{"count zero alerts on the first failure", &v1alpha1.AlertThreshold{Count: 0, Window: minute}, []time.Duration{0}, []string{notify.KindFailure}},
		{"a failure exactly at the window's end still counts", &v1alpha1.AlertThreshold{Count: 2, Window: minute}, []time.Duration{0, time.Minute}, []string{"", notify.KindFailure}},
		{"after a passed window the count starts again", &v1alpha1.AlertThreshold{Count: 2, Window: minute},
			[]time.Duration{0, 2 * time.Minute, 2*time.Minute + 30*time.Second}, []string{"", "", notify.KindFailure}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := notify.Policy{GroupBy: []string{"kind"}, Threshold: tc.threshold}
			var eps []v1alpha1.AlertEpisode
			var got []string
			for i, at := range tc.at {
				var m *notify.Message
				eps, m = notify.Decide(eps, p, failEvent(fmt.Sprintf("s%d", i), at), false)
				kind := ""
				if m != nil {
					kind = m.Kind
				}
				got = append(got, kind)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupKeyIgnoresUnknownFields(t *testing.T) {
	ev := failEvent("web", 0)
	if got := notify.GroupKey([]string{"kind", "colour"}, ev); got != "kind=Stack" {
		t.Errorf("GroupKey = %q, want the unknown field left out", got)
	}
	if got := notify.GroupKey([]string{"colour"}, ev); got != "" {
		t.Errorf("GroupKey of only unknown fields = %q, want the empty key (one group)", got)
	}
}
