package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/apply"
)

func TestWaitReturnsAtOnceWhenEverythingIsCurrent(t *testing.T) {
	f := newFixture(t)
	objs := concat(f.load("namespace.yaml"), f.load("configmap.yaml", "NAME", "settings", "VALUE", "1"))
	mustApply(t, f.manager("app"), objs)

	start := time.Now()
	err := f.manager("app").Wait(context.Background(), metadataOf(objs), 30*time.Second)

	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Wait took %s for objects that are Current at once", elapsed)
	}
}

func TestWaitForNothingReturnsNil(t *testing.T) {
	f := newFixture(t)
	if err := f.manager("app").Wait(context.Background(), nil, time.Second); err != nil {
		t.Errorf("Wait(nil) = %v", err)
	}
}

// No controller-manager runs against the test API server, so a Deployment
// never gets a status and never becomes available.
func TestWaitTimesOutNamingTheObjectsNotReady(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := concat(
		f.load("configmap.yaml", "NAME", "settings", "VALUE", "1"),
		f.load("deployment-selector.yaml", "APP", "api"),
	)
	mustApply(t, f.manager("app"), objs)
	missing := apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: f.Namespace, Name: "never-created"}
	const timeout = 2 * time.Second

	start := time.Now()
	err := f.manager("app").Wait(context.Background(), append(metadataOf(objs), missing), timeout)
	elapsed := time.Since(start)

	var he *apply.HealthError
	if !errors.As(err, &he) {
		t.Fatalf("want a *apply.HealthError, got %T: %v", err, err)
	}
	if elapsed < timeout || elapsed > timeout+5*time.Second {
		t.Errorf("Wait returned after %s, want about %s", elapsed, timeout)
	}
	if he.Timeout != timeout {
		t.Errorf("Timeout = %s, want %s", he.Timeout, timeout)
	}
	deployment := apply.MetadataOf(objs[1])
	want := []apply.NotReady{
		{Object: deployment, Status: "InProgress"},
		{Object: missing, Status: "NotFound", Message: "not found"},
	}
	ignoreDeploymentMessage := cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Message"
	}, cmp.Ignore())
	if diff := cmp.Diff(want, he.NotReady, ignoreDeploymentMessage); diff != "" {
		t.Errorf("not ready (-want +got):\n%s", diff)
	}
	for _, n := range he.NotReady {
		if n.Message == "" {
			t.Errorf("%s: no kstatus message", n.Object)
		}
		if !strings.Contains(err.Error(), n.Object.String()+" ("+n.Status+": "+n.Message+")") {
			t.Errorf("message %q does not give %s with its status and message", err, n.Object)
		}
	}
	if !strings.Contains(err.Error(), "Deployment/"+f.Namespace+"/api") {
		t.Errorf("message %q does not name the Deployment", err)
	}
}

// kstatus calls a Deployment whose progress deadline passed Failed; a wait
// that can no longer succeed ends at once.
func TestWaitEndsEarlyWhenAnObjectFailed(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := f.load("deployment-selector.yaml", "APP", "api")
	mustApply(t, f.manager("app"), objs)
	deployment := apply.MetadataOf(objs[0])
	f.setStatus(deployment, map[string]any{
		"observedGeneration": int64(1),
		"conditions": []any{map[string]any{
			"type":    "Progressing",
			"status":  "False",
			"reason":  "ProgressDeadlineExceeded",
			"message": `ReplicaSet "api-5d4b9c" has timed out progressing.`,
		}},
	})

	start := time.Now()
	err := f.manager("app").Wait(context.Background(), []apply.ObjMetadata{deployment}, time.Minute)

	var he *apply.HealthError
	if !errors.As(err, &he) {
		t.Fatalf("want a *apply.HealthError, got %T: %v", err, err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Wait took %s; a Failed object should end it at once", elapsed)
	}
	want := []apply.NotReady{{Object: deployment, Status: "Failed", Message: "Progress deadline exceeded"}}
	if diff := cmp.Diff(want, he.NotReady); diff != "" {
		t.Errorf("not ready (-want +got):\n%s", diff)
	}
}

func TestWaitEndsPromptlyWhenCancelled(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := f.load("deployment-selector.yaml", "APP", "api")
	mustApply(t, f.manager("app"), objs)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	m := f.manager("app", func(o *apply.Options) { o.Poll = 10 * time.Second })

	start := time.Now()
	err := m.Wait(ctx, metadataOf(objs), time.Minute)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
	var he *apply.HealthError
	if errors.As(err, &he) {
		t.Errorf("a cancelled wait is not a health failure: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Wait returned %s after the cancel", elapsed-300*time.Millisecond)
	}
}

// setStatus writes an object's status subresource, as its controller would.
func (f *fixture) setStatus(m apply.ObjMetadata, status map[string]any) {
	f.t.Helper()
	live := f.get(m)
	if err := unstructured.SetNestedMap(live.Object, status, "status"); err != nil {
		f.t.Fatal(err)
	}
	if err := f.live.Status().Update(context.Background(), live); err != nil {
		f.t.Fatalf("writing the status of %s: %v", m, err)
	}
}
