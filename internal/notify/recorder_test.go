package notify_test

import (
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

type collectingSink struct {
	mu     sync.Mutex
	events []notify.Event
}

func (s *collectingSink) Enqueue(ev notify.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
}

// TestRecorderCapsEventNotes: the events API refuses a note over 1024
// bytes and the event is lost; the recorder cuts it to fit, and Alerts
// still get the whole message.
func TestRecorderCapsEventNotes(t *testing.T) {
	inner := events.NewFakeRecorder(1)
	sink := &collectingSink{}
	r := notify.NewRecorder(inner, sink, v1alpha1.NewScheme())
	st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	long := "dry-run failed: " + strings.Repeat("ConfigMap/apps/x: field is immutable; ", 200)

	r.Eventf(st, nil, "Warning", v1alpha1.ReasonValidationFailed, "Reconcile", "%s", long)

	recorded := <-inner.Events
	note := recorded[strings.Index(recorded, "dry-run failed"):]
	if len(note) > notify.MaxEventNote || !strings.Contains(note, "more bytes not shown") {
		t.Errorf("the event's note is %d bytes (want at most %d, saying what was cut): %.80q…", len(note), notify.MaxEventNote, note)
	}
	if len(sink.events) != 1 || sink.events[0].Message != long {
		t.Errorf("the Alerts did not get the whole message: %d events", len(sink.events))
	}
}
