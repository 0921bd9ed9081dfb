package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Tests that one cause makes one apply and one event: a watch that queues
// a Stack again right after a reconcile must not re-apply from the status
// before it, and a failure that repeats must not be recorded again.

// quiet is how long the tests watch for a second apply or event; the
// duplicates they guard against followed the first within milliseconds.
const quiet = 2500 * time.Millisecond

// dependsOn makes a Stack depend on the named Stacks of its namespace.
func dependsOn(names ...string) stackOption {
	return func(s *v1alpha1.Stack) {
		for _, n := range names {
			s.Spec.DependsOn = append(s.Spec.DependsOn, v1alpha1.DependencyReference{Name: n})
		}
	}
}

// TestStackAppliesARevisionOnce: a commit that changes only the objects of
// a dependent Stack is applied to them once. The dependency turning Ready
// at the same revision queues the dependent again right after its apply;
// that reconcile must see the status the apply wrote and skip, so the
// status keeps the summary of the apply that changed something (before,
// it read the stale cached status, applied again, and its patch mixed both
// summaries: "1 configured, 2 unchanged" for two objects).
func TestStackAppliesARevisionOnce(t *testing.T) {
	appNS := newNamespace(t) // the dependent's objects, so its dry-runs are counted apart
	f, _ := scenario(t, func(ns string) map[string]string {
		return map[string]string{
			"infra/cm.yaml":   configMap(ns, "infra", "1"),
			"apps/app.yaml":   configMap(appNS, "app", "1"),
			"apps/other.yaml": configMap(appNS, "other", "1"),
		}
	})
	infra := createStack(t, f, "infra", "infra", func(s *v1alpha1.Stack) {
		s.Spec.HealthChecks = []v1alpha1.ObjectReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: f.ns, Name: "infra"}}
	})
	apps := createStack(t, f, "apps", "apps", dependsOn("infra"))
	waitStack(t, infra, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")
	waitStack(t, apps, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")
	time.Sleep(quiet)

	for i := 2; i <= 4; i++ { // three commits: the race is narrow, give it several chances
		_, dryRuns := requests.counts(appNS)
		rev := f.update(t, map[string]string{"apps/app.yaml": configMap(appNS, "app", fmt.Sprint(i))})
		waitStack(t, infra, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
		waitStack(t, apps, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
		time.Sleep(quiet)
		var s v1alpha1.Stack
		if err := get(t, apps, &s); err != nil {
			t.Fatal(err)
		}
		want := v1alpha1.ChangeSummary{Configured: 1, Unchanged: 1}
		if c := s.Status.LastChange; c == nil || *c != want {
			t.Errorf("commit %d: lastChange = %+v, want %+v", i, c, want)
		}
		wantMsg := "applied revision " + rev + ": 0 created, 1 configured, 1 unchanged, 0 deleted"
		if msg := stackReady(&s).Message; msg != wantMsg {
			t.Errorf("commit %d: Ready message = %q, want %q", i, msg, wantMsg)
		}
		// One apply of two objects is two dry-run requests.
		if _, d := requests.counts(appNS); d-dryRuns != 2 {
			t.Errorf("commit %d: %d dry-run requests for the dependent's 2 objects, want 2 (one apply)", i, d-dryRuns)
		}
	}
}

// occurrences counts the events of reason on the named object of kind,
// with the repeats the recorder folds into a series.
func occurrences(t *testing.T, ns, kind, name, reason string) int {
	t.Helper()
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs.Items {
		if e.Regarding.Kind != kind || e.Regarding.Name != name || e.Reason != reason {
			continue
		}
		if e.Series != nil {
			n += int(e.Series.Count)
		} else {
			n++
		}
	}
	return n
}

// TestStackFailureRecordedOnce: a Stack created with its dependency (as a
// root Stack creates a chain) is queued by both creations and fails
// DependencyNotReady once, and retries that fail the same way add no
// event; a new failure message does.
func TestStackFailureRecordedOnce(t *testing.T) {
	f, _ := scenario(t, func(ns string) map[string]string {
		return map[string]string{"first/cm.yaml": configMap(ns, "first", "1"), "second/cm.yaml": configMap(ns, "second", "1")}
	})
	retry := func(s *v1alpha1.Stack) { s.Spec.RetryInterval = &metav1.Duration{Duration: v1alpha1.MinRetryInterval} }
	// first never turns Ready: its health check names an object nobody creates.
	never := func(s *v1alpha1.Stack) {
		s.Spec.HealthChecks = []v1alpha1.ObjectReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: f.ns, Name: "never"}}
	}
	createStack(t, f, "first", "first", never)
	second := createStack(t, f, "second", "second", dependsOn("first"), retry)
	waitStack(t, second, metav1.ConditionFalse, v1alpha1.ReasonDependencyNotReady, "")
	time.Sleep(quiet) // several retries
	if n := occurrences(t, f.ns, v1alpha1.StackKind, "second", v1alpha1.ReasonDependencyNotReady); n != 1 {
		t.Errorf("%d DependencyNotReady events for one unchanged failure, want 1", n)
	}

	patchStack(t, second, func(s *v1alpha1.Stack) { s.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "missing"}} })
	eventually(t, "an event for the new failure", func() error {
		if n := occurrences(t, f.ns, v1alpha1.StackKind, "second", v1alpha1.ReasonDependencyNotReady); n != 2 {
			return fmt.Errorf("%d DependencyNotReady events, want 2", n)
		}
		return nil
	})
}

// TestGitRepositoryFailureRecordedOnce: a source that fails the same way
// at every interval records one Warning event, not one per attempt.
func TestGitRepositoryFailureRecordedOnce(t *testing.T) {
	ns := newNamespace(t)
	key := createGitRepository(t, ns, "file:///nonexistent/flotilla/fleet", withInterval(time.Second))
	var reason string
	eventually(t, "the GitRepository fails", func() error {
		var g v1alpha1.GitRepository
		if err := get(t, key, &g); err != nil {
			return err
		}
		for _, c := range g.Status.Conditions {
			if c.Type == v1alpha1.ReadyCondition && c.Status == metav1.ConditionFalse {
				reason = c.Reason
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", g.Status.Conditions)
	})
	time.Sleep(2500 * time.Millisecond) // two intervals
	if n := occurrences(t, ns, v1alpha1.GitRepositoryKind, key.Name, reason); n != 1 {
		t.Errorf("%d %s events for one unchanged failure, want 1", n, reason)
	}
	var warnings int
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if e.Type == corev1.EventTypeWarning {
			warnings++
		}
	}
	if warnings != 1 {
		t.Errorf("%d Warning events, want 1", warnings)
	}
}
