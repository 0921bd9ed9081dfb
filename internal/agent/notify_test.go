package agent

import (
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// TestNotificationsRecorderKeepsTheManagersEvents: every event a
// controller records still reaches the cluster's events (the inner
// recorder), its note cut to what the events API stores.
func TestNotificationsRecorderKeepsTheManagersEvents(t *testing.T) {
	// Making a manager asks nothing of the API server; port 1 is never dialled.
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, managerOptions(DefaultOptions(), logr.Discard()))
	if err != nil {
		t.Fatal(err)
	}
	n := &Notifications{Engine: notify.NewEngine(mgr.GetClient(), notify.DefaultOptions())}
	inner := events.NewFakeRecorder(2)
	rec := n.Recorder(mgr, inner)
	st := &v1alpha1.Stack{}
	st.Name, st.Namespace = "apps", "flotilla-system"

	rec.Eventf(st, nil, "Normal", "Applied", "Reconcile", "applied %d objects", 3)
	if got := <-inner.Events; got != "Normal Applied applied 3 objects" {
		t.Errorf("inner event = %q", got)
	}
	rec.Eventf(st, nil, "Warning", "Failed", "Reconcile", "%s", strings.Repeat("x", 3*notify.MaxEventNote))
	got := <-inner.Events
	if note := strings.TrimPrefix(got, "Warning Failed "); len(note) > notify.MaxEventNote || !strings.HasPrefix(note, "xxx") {
		t.Errorf("inner note of %d bytes, want at most %d: the events API would refuse it", len(note), notify.MaxEventNote)
	}
}
