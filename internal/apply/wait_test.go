package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// No kubelet runs against the test API server: the test writes the Pod's
// status as kubelet does when the image cannot be pulled.
func TestWaitNamesWhyTheDeploymentsPodsDoNotRun(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	ctx := context.Background()
	objs := f.load("deployment-selector.yaml", "APP", "api")
	mustApply(t, f.manager("app"), objs)
	// The ServiceAccount admission plugin wants the default ServiceAccount,
	// which no controller-manager creates here.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: f.Namespace, Name: "default"}}
	if err := f.live.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, app string }{{"api-pulling", "api"}, {"other-app", "other"}} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: f.Namespace, Name: p.name, Labels: map[string]string{"app": p.app}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "registry.example.com/api:1.0.0"}}},
		}
		if err := f.live.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "api", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "ImagePullBackOff", Message: `Back-off pulling image "registry.example.com/api:1.0.0"`,
		}}}}
		if err := f.live.Status().Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}

	err := f.manager("app").Wait(ctx, metadataOf(objs), time.Second)

	var he *apply.HealthError
	if !errors.As(err, &he) || len(he.NotReady) != 1 {
		t.Fatalf("want a *apply.HealthError with one object, got %T: %v", err, err)
	}
	want := []string{`Pod api-pulling: container api: ImagePullBackOff: Back-off pulling image "registry.example.com/api:1.0.0"`}
	if diff := cmp.Diff(want, he.NotReady[0].Pods); diff != "" {
		t.Errorf("Pods (-want +got), only the Deployment's own Pod:\n%s", diff)
	}
	if !strings.Contains(err.Error(), want[0]) {
		t.Errorf("message %q does not give the pull error", err)
	}
}
