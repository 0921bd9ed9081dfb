package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

func conditionsWithReady(status metav1.ConditionStatus) []metav1.Condition {
	return []metav1.Condition{
		{Type: "Reconciling", Status: metav1.ConditionTrue},
		{Type: v1alpha1.ReadyCondition, Status: status},
	}
}

func TestNewEvent(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	labels := map[string]string{"env": "prod"}
	stack := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", UID: "uid-1", Labels: labels},
		Status: v1alpha1.StackStatus{
			LastAppliedRevision: "main@sha1:old", LastAttemptedRevision: "main@sha1:new",
			Conditions: conditionsWithReady(metav1.ConditionFalse),
		},
	}
	ev, err := notify.NewEvent(v1alpha1.NewScheme(), stack, "Warning", "BuildFailed", "kustomize build failed", now)
	if err != nil {
		t.Fatal(err)
	}
	want := notify.Event{
		Object:   notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web", UID: "uid-1", APIVersion: v1alpha1.GroupVersion.String()},
		Labels:   map[string]string{"env": "prod"},
		Severity: notify.SeverityError, Reason: "BuildFailed", Message: "kustomize build failed",
		Revision: "main@sha1:new", Ready: false, Time: now,
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	labels["env"] = "changed"
	if ev.Labels["env"] != "prod" {
		t.Error("the event shares the object's label map: a later change reaches it")
	}
}

func TestNewEventReadsRevisionAndReadiness(t *testing.T) {
	for _, tc := range []struct {
		name         string
		obj          runtime.Object
		wantRevision string
		wantReady    bool
	}{
		{"a Stack that applied and is ready", &v1alpha1.Stack{Status: v1alpha1.StackStatus{
			LastAppliedRevision: "main@sha1:a", Conditions: conditionsWithReady(metav1.ConditionTrue)}}, "main@sha1:a", true},
		{"a Stack's attempt comes before what it applied", &v1alpha1.Stack{Status: v1alpha1.StackStatus{
			LastAppliedRevision: "main@sha1:a", LastAttemptedRevision: "main@sha1:b"}}, "main@sha1:b", false},
		{"a GitRepository's artifact", &v1alpha1.GitRepository{Status: v1alpha1.GitRepositoryStatus{
			Artifact: &v1alpha1.Artifact{Revision: "v1@sha1:c"}, Conditions: conditionsWithReady(metav1.ConditionTrue)}}, "v1@sha1:c", true},
		{"Ready Unknown is not ready", &v1alpha1.GitRepository{Status: v1alpha1.GitRepositoryStatus{
			Conditions: conditionsWithReady(metav1.ConditionUnknown)}}, "", false},
		{"a fresh object", &v1alpha1.Stack{}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := notify.NewEvent(v1alpha1.NewScheme(), tc.obj, "Normal", "Progressing", "", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if ev.Revision != tc.wantRevision || ev.Ready != tc.wantReady || ev.Severity != notify.SeverityInfo {
				t.Errorf("revision %q ready %v severity %s, want %q %v info", ev.Revision, ev.Ready, ev.Severity, tc.wantRevision, tc.wantReady)
			}
		})
	}
}

func TestNewEventOfAKindOutsideTheScheme(t *testing.T) {
	_, err := notify.NewEvent(runtime.NewScheme(), &v1alpha1.Stack{}, "Normal", "Created", "", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "event about an unknown kind") {
		t.Errorf("err = %v, want an unknown kind", err)
	}
}

func TestRecovered(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   notify.Event
		want bool
	}{
		{"a Normal event of a ready object", notify.Event{Severity: notify.SeverityInfo, Reason: "Progressing", Ready: true}, true},
		{"NewArtifact before Ready is set", notify.Event{Severity: notify.SeverityInfo, Reason: "NewArtifact"}, true},
		{"Succeeded before Ready is set", notify.Event{Severity: notify.SeverityInfo, Reason: v1alpha1.ReasonSucceeded}, true},
		{"a Normal event of an object not ready", notify.Event{Severity: notify.SeverityInfo, Reason: "Progressing"}, false},
		{"a Warning of a ready object", notify.Event{Severity: notify.SeverityError, Reason: "Drift", Ready: true}, false},
		{"a Warning with a recovery reason", notify.Event{Severity: notify.SeverityError, Reason: "NewArtifact"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ev.Recovered(); got != tc.want {
				t.Errorf("Recovered = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestObjectRefString(t *testing.T) {
	ref := notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web", UID: "u", APIVersion: "v"}
	if got := ref.String(); got != "Stack/apps/web" {
		t.Errorf("String = %q, want Kind/namespace/name", got)
	}
}
