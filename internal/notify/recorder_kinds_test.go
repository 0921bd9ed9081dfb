package notify_test

import (
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// An object of a kind outside the scheme still gets its Kubernetes event;
// only Alerts, which cannot select it, do not hear of it.
func TestRecorderPassesUnknownKindsToKubernetesOnly(t *testing.T) {
	inner := events.NewFakeRecorder(1)
	sink := &collectingSink{}
	r := notify.NewRecorder(inner, sink, runtime.NewScheme())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "settings"}}

	r.Eventf(cm, nil, "Normal", "Applied", "Reconcile", "applied %d objects", 3)

	if got := <-inner.Events; got != "Normal Applied applied 3 objects" {
		t.Errorf("Kubernetes event = %q", got)
	}
	if len(sink.events) != 0 {
		t.Errorf("the Alerts heard of a kind they cannot select: %+v", sink.events)
	}
}

func TestRecorderFormatsOnceForBoth(t *testing.T) {
	inner := events.NewFakeRecorder(1)
	sink := &collectingSink{}
	r := notify.NewRecorder(inner, sink, v1alpha1.NewScheme())
	st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	before := time.Now()

	r.Eventf(st, nil, "Warning", "BuildFailed", "Reconcile", "kustomize build of %s failed: %s", "./apps", "100%% wrong")

	if got := <-inner.Events; got != "Warning BuildFailed kustomize build of ./apps failed: 100%% wrong" {
		t.Errorf("Kubernetes event = %q", got)
	}
	if len(sink.events) != 1 {
		t.Fatalf("%d events for the Alerts, want 1", len(sink.events))
	}
	ev := sink.events[0]
	if ev.Message != "kustomize build of ./apps failed: 100%% wrong" || ev.Severity != notify.SeverityError || ev.Object.String() != "Stack/apps/web" {
		t.Errorf("Alert event = %+v", ev)
	}
	if ev.Time.Before(before) {
		t.Errorf("event time %s is before the call", ev.Time)
	}
}

func TestEventType(t *testing.T) {
	h := http.Header{"X-Github-Event": {"push"}, "X-Gitlab-Event": {"Push Hook"}}
	for _, tc := range []struct{ typ, want string }{
		{v1alpha1.ReceiverGitHub, "push"},
		{v1alpha1.ReceiverGitLab, "Push Hook"},
		{v1alpha1.ReceiverGeneric, ""},
		{v1alpha1.ReceiverGenericHMAC, ""},
	} {
		if got := notify.EventType(tc.typ, h); got != tc.want {
			t.Errorf("EventType(%s) = %q, want %q", tc.typ, got, tc.want)
		}
	}
	if got := notify.EventType(v1alpha1.ReceiverGitHub, http.Header{}); got != "" {
		t.Errorf("EventType without the header = %q, want empty", got)
	}
}
