package drift_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Issue #11: the agent of a least-privilege install may not list or watch
// Deployments, so before the fix its informer never synced and a hand edit
// stayed. The watch now lists and watches as the Stack's ServiceAccount,
// in the one namespace its Role covers.
func TestLeastPrivilegeAgentRevertsHandEditAsTheStacksServiceAccount(t *testing.T) {
	tn := newTenant(t, rules(manageAll, manageAll), func(ns string) map[string]string {
		return map[string]string{"app/deploy.yaml": deployment(ns, "web", "nginx:1.27")}
	})
	key := tn.stack(t, "app", "app")
	s := waitReady(t, key)
	if c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.DriftWatchCondition); c != nil {
		t.Errorf("DriftWatch = %+v, want none when every object is watched", c)
	}
	want := tn.identity() + "|apps/v1/deployments|" + tn.ns
	if got := controllers.Stack.Drift.Informers(); !slices.Contains(got, want) {
		t.Errorf("informers = %v, want %s (namespaced, as the ServiceAccount)", got, want)
	}

	start := time.Now()
	editImage(t, tn.ns, "web", "nginx:hand-edit")
	eventually(t, "the hand edit to be reverted", func() error {
		if img, err := image(t, tn.ns, "web"); err != nil || img != "nginx:1.27" {
			return fmt.Errorf("image = %q (%v)", img, err)
		}
		return nil
	})
	t.Logf("reverted within %s", time.Since(start))
	rec := waitDrift(t, key, "corrected")
	if rec.Manager != "kubectl-edit" || rec.Object != "Deployment/"+tn.ns+"/web" {
		t.Errorf("record = %+v, want the edit of Deployment %s/web attributed to kubectl-edit", rec, tn.ns)
	}
}

// A ServiceAccount that may apply Deployments but not list or watch them
// gets a DriftWatch=False condition and a Warning event naming the kind,
// the namespace and the identity; what it may watch is still corrected.
func TestForbiddenWatchIsReportedNotSilent(t *testing.T) {
	tn := newTenant(t, rules(manageAll, applyOnly), func(ns string) map[string]string {
		return map[string]string{
			"app/deploy.yaml": deployment(ns, "web", "nginx:1.27"),
			"app/cm.yaml":     configMap(ns, "settings", "from-git"),
		}
	})
	key := tn.stack(t, "app", "app")
	_ = waitReady(t, key) // the apply itself is allowed
	var cond *metav1.Condition
	eventually(t, "DriftWatch=False", func() error {
		var s v1alpha1.Stack
		if err := env.Client.Get(context.Background(), key, &s); err != nil {
			return err
		}
		if cond = meta.FindStatusCondition(s.Status.Conditions, v1alpha1.DriftWatchCondition); cond == nil {
			return fmt.Errorf("conditions = %+v", s.Status.Conditions)
		}
		return nil
	})
	if cond.Status != metav1.ConditionFalse || cond.Reason != v1alpha1.ReasonWatchForbidden {
		t.Errorf("DriftWatch = %s %s, want False %s", cond.Status, cond.Reason, v1alpha1.ReasonWatchForbidden)
	}
	for _, part := range []string{"Deployment.apps", "in namespace " + tn.ns, tn.identity(), "forbidden"} {
		if !strings.Contains(cond.Message, part) {
			t.Errorf("DriftWatch message %q does not name %q", cond.Message, part)
		}
	}
	if strings.Contains(cond.Message, "ConfigMap") {
		t.Errorf("DriftWatch message %q names ConfigMaps, which are watched", cond.Message)
	}
	if ev := warning(t, tn.ns, v1alpha1.ReasonWatchForbidden); !strings.Contains(ev, tn.identity()) {
		t.Errorf("WatchForbidden event %q does not name %s", ev, tn.identity())
	}

	editValue(t, tn.ns, "settings", "hand-edit")
	eventually(t, "the ConfigMap edit to be reverted", func() error {
		if v, err := value(t, tn.ns, "settings"); err != nil || v != "from-git" {
			return fmt.Errorf("value = %q (%v)", v, err)
		}
		return nil
	})
}

// Stacks acting as the same ServiceAccount share one informer per kind and
// namespace; it stops when the last of them is gone.
func TestInformersSharedByIdentityAndStoppedWhenUnused(t *testing.T) {
	tn := newTenant(t, rules(manageAll, manageAll), func(ns string) map[string]string {
		return map[string]string{
			"a/deploy.yaml": deployment(ns, "a", "nginx:1.27"),
			"b/deploy.yaml": deployment(ns, "b", "nginx:1.27"),
		}
	})
	a, b := tn.stack(t, "a", "a"), tn.stack(t, "b", "b")
	waitReady(t, a)
	waitReady(t, b)
	want := tn.identity() + "|apps/v1/deployments|" + tn.ns
	if n := countInformers(want); n != 1 {
		t.Fatalf("%d informers %s, want 1 shared by both Stacks: %v", n, want, controllers.Stack.Drift.Informers())
	}
	deleteStack(t, a)
	if n := countInformers(want); n != 1 {
		t.Fatalf("%d informers %s after one Stack went, want 1", n, want)
	}
	deleteStack(t, b)
	eventually(t, "the informer to stop", func() error {
		if n := countInformers(want); n != 0 {
			return fmt.Errorf("%d informers %s", n, want)
		}
		return nil
	})
}

func countInformers(key string) int {
	n := 0
	for _, k := range controllers.Stack.Drift.Informers() {
		if k == key {
			n++
		}
	}
	return n
}

// deleteStack deletes the Stack and waits until it is gone.
func deleteStack(t *testing.T, key client.ObjectKey) {
	t.Helper()
	s := &v1alpha1.Stack{}
	s.Namespace, s.Name = key.Namespace, key.Name
	if err := env.Client.Delete(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Stack "+key.String()+" gone", func() error {
		if err := env.Client.Get(context.Background(), key, s); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
}

// waitDrift waits for the newest status.drift record to have action.
func waitDrift(t *testing.T, key client.ObjectKey, action string) v1alpha1.DriftRecord {
	t.Helper()
	var s v1alpha1.Stack
	eventually(t, "a drift record "+action, func() error {
		if err := env.Client.Get(context.Background(), key, &s); err != nil {
			return err
		}
		if len(s.Status.Drift) == 0 || s.Status.Drift[0].Action != action {
			return fmt.Errorf("status.drift = %+v", s.Status.Drift)
		}
		return nil
	})
	return s.Status.Drift[0]
}

// warning waits for a Warning event with reason in ns and returns its note.
func warning(t *testing.T, ns, reason string) string {
	t.Helper()
	var note string
	eventually(t, "a Warning event "+reason, func() error {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Type == "Warning" && e.Reason == reason {
				note = e.Note
				return nil
			}
		}
		return fmt.Errorf("%d events, none %s", len(evs.Items), reason)
	})
	return note
}
