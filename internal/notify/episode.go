package notify

import (
	"slices"
	"strings"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Bounds of the episode state kept in an Alert's status.
const (
	maxEpisodes       = 100
	maxEpisodeObjects = 50
)

// Kinds of Message.
const (
	// KindFailure opens a failure episode.
	KindFailure = "failure"
	// KindResolved ends one: every object of the episode works again.
	KindResolved = "resolved"
	// KindInfo is an event that belongs to no episode.
	KindInfo = "info"
)

// Message is what one delivery sends.
type Message struct {
	// Kind is failure, resolved or info.
	Kind string
	// Event is the event that produced the message.
	Event Event
	// Objects are the objects of the episode (more than one when grouped).
	Objects []string
	// Metadata are the Alert's eventMetadata and the revision.
	Metadata map[string]string
}

// Severity is error for a failure, info otherwise.
func (m Message) Severity() string {
	if m.Kind == KindFailure {
		return SeverityError
	}
	return SeverityInfo
}

// Title is a one-line summary, like "Stack apps/web failed: BuildFailed".
func (m Message) Title() string {
	o := m.Event.Object
	what := o.Kind + " " + o.Namespace + "/" + o.Name
	if len(m.Objects) > 1 {
		what = strings.Join(m.Objects, ", ")
	}
	switch m.Kind {
	case KindFailure:
		return what + " failed: " + m.Event.Reason
	case KindResolved:
		return what + " recovered: " + m.Event.Reason
	}
	return what + ": " + m.Event.Reason
}

// Policy is how an Alert turns events into episodes.
type Policy struct {
	GroupBy   []string
	Threshold *v1alpha1.AlertThreshold
}

// Decide applies one event to an Alert's open episodes and returns the
// episodes after it and the message to send, if any. Rules:
//   - a failure of an object already in an episode sends nothing (a retry,
//     or another failure of the same episode);
//   - a new failure joins its group's episode, or opens one; the episode
//     alerts once it has threshold.count failures within threshold.window
//     (the first failure by default), and never again;
//   - a recovery removes the object; the episode's last object recovering
//     sends the resolved message, if the failure message was sent;
//   - any other info event sends an info message when wantInfo.
func Decide(episodes []v1alpha1.AlertEpisode, p Policy, ev Event, wantInfo bool) ([]v1alpha1.AlertEpisode, *Message) {
	episodes = slices.Clone(episodes)
	obj := ev.Object.String()
	idx := slices.IndexFunc(episodes, func(e v1alpha1.AlertEpisode) bool { return slices.Contains(e.Objects, obj) })
	if ev.Severity == SeverityError {
		return fail(episodes, idx, p, ev)
	}
	if idx < 0 || !ev.Recovered() {
		if wantInfo {
			return episodes, &Message{Kind: KindInfo, Event: ev, Objects: []string{obj}}
		}
		return episodes, nil
	}
	ep := &episodes[idx]
	ep.Objects = slices.DeleteFunc(slices.Clone(ep.Objects), func(o string) bool { return o == obj })
	if len(ep.Objects) > 0 {
		return episodes, nil
	}
	notified, members := ep.Notified, []string{obj}
	episodes = slices.Delete(episodes, idx, idx+1)
	if !notified {
		return episodes, nil
	}
	return episodes, &Message{Kind: KindResolved, Event: ev, Objects: members}
}

// fail handles a failure event; idx is the episode the object is in, or -1.
func fail(episodes []v1alpha1.AlertEpisode, idx int, p Policy, ev Event) ([]v1alpha1.AlertEpisode, *Message) {
	if idx >= 0 && episodes[idx].Notified {
		return episodes, nil
	}
	key := GroupKey(p.GroupBy, ev)
	if idx < 0 {
		idx = slices.IndexFunc(episodes, func(e v1alpha1.AlertEpisode) bool { return e.Key == key })
	}
	now := metav1.NewTime(ev.Time)
	if idx < 0 {
		if len(episodes) >= maxEpisodes {
			episodes = episodes[1:] // the oldest goes; its resolved message is lost, not the new alert
		}
		episodes = append(episodes, v1alpha1.AlertEpisode{Key: key, Since: now})
		idx = len(episodes) - 1
	}
	ep := &episodes[idx]
	obj := ev.Object.String()
	if !slices.Contains(ep.Objects, obj) && len(ep.Objects) < maxEpisodeObjects {
		ep.Objects = append(slices.Clone(ep.Objects), obj)
	}
	if p.Threshold != nil && ev.Time.Sub(ep.Since.Time) > p.Threshold.Window.Duration && !ep.Notified {
		ep.Since, ep.Events = now, 0 // the window passed: count again from this failure
	}
	ep.Events++
	if ep.Notified || ep.Events < thresholdCount(p.Threshold) {
		return episodes, nil
	}
	ep.Notified, ep.Reason, ep.Message = true, ev.Reason, truncate(ev.Message, 1024)
	return episodes, &Message{Kind: KindFailure, Event: ev, Objects: slices.Clone(ep.Objects)}
}

func thresholdCount(t *v1alpha1.AlertThreshold) int32 {
	if t == nil || t.Count < 1 {
		return 1
	}
	return t.Count
}

// groupFields are the fields groupBy may name.
var groupFields = map[string]func(Event) string{
	"kind":      func(e Event) string { return e.Object.Kind },
	"namespace": func(e Event) string { return e.Object.Namespace },
	"name":      func(e Event) string { return e.Object.Name },
	"reason":    func(e Event) string { return e.Reason },
	"revision":  func(e Event) string { return e.Revision },
}

// GroupKey is the episode key of an event: the object, or the values of
// the groupBy fields.
func GroupKey(groupBy []string, ev Event) string {
	if len(groupBy) == 0 {
		return ev.Object.String()
	}
	parts := make([]string, 0, len(groupBy))
	for _, f := range groupBy {
		if get, ok := groupFields[f]; ok {
			parts = append(parts, f+"="+get(ev))
		}
	}
	return strings.Join(parts, ",")
}

// truncate cuts s to at most n bytes plus an ellipsis, at the start of a
// character so the result stays valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
