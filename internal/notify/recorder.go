package notify

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/flotilla-io/flotilla/internal/conditions"
)

// Sink takes events for Alerts. It must not block: it is called on the
// reconcile path.
type Sink interface {
	Enqueue(Event)
}

// Recorder records Kubernetes events as its inner recorder does and hands
// each one to a Sink. Controllers use it as their events.EventRecorder, so
// a new kind reaches Alerts by recording events and nothing else.
type Recorder struct {
	inner  events.EventRecorder
	sink   Sink
	scheme *runtime.Scheme
	now    func() time.Time
}

var _ events.EventRecorder = (*Recorder)(nil)

// NewRecorder wraps inner; scheme names the kinds of the objects recorded.
func NewRecorder(inner events.EventRecorder, sink Sink, scheme *runtime.Scheme) *Recorder {
	return &Recorder{inner: inner, sink: sink, scheme: scheme, now: time.Now}
}

// MaxEventNote is the longest note the events API stores (events.k8s.io
// refuses a longer one, and the event is lost without a word); longer
// notes are cut to fit, saying how much was left out. Alerts get the whole
// message, within the condition limit.
const MaxEventNote = 1024

// Eventf implements events.EventRecorder.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	msg := fmt.Sprintf(note, args...)
	r.inner.Eventf(regarding, related, eventtype, reason, action, "%s", conditions.Truncate(msg, MaxEventNote))
	ev, err := NewEvent(r.scheme, regarding, eventtype, reason, conditions.Truncate(msg, conditions.MaxMessageLength), r.now())
	if err != nil {
		return // not a kind Alerts can select
	}
	r.sink.Enqueue(ev)
}
