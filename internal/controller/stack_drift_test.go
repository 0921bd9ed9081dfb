package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// driftFixture is a Ready Stack "app" that applied files.
func driftFixture(t *testing.T, files func(ns string) map[string]string, opts ...stackOption) (*stackFixture, client.ObjectKey) {
	t.Helper()
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, files(ns))
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	key := createStack(t, f, "app", "app", opts...)
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)
	return f, key
}

// editConfigMap changes data.value as field manager "kubectl-edit".
func editConfigMap(t *testing.T, ns, name, value string) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"data":{"value":%q}}`, value))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Patch(context.Background(), cm, client.RawPatch(types.MergePatchType, patch), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatalf("editing %s/%s: %v", ns, name, err)
	}
}

func waitDriftRecord(t *testing.T, key client.ObjectKey, action string) v1alpha1.DriftRecord {
	t.Helper()
	var s v1alpha1.Stack
	eventually(t, "a drift record "+action, func() error {
		if err := get(t, key, &s); err != nil {
			return err
		}
		if len(s.Status.Drift) == 0 || s.Status.Drift[0].Action != action {
			return fmt.Errorf("status.drift = %+v", s.Status.Drift)
		}
		return nil
	})
	return s.Status.Drift[0]
}

func TestDriftRevertedAndAttributed(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		return map[string]string{"app/cm.yaml": configMap(ns, "settings", "from-git")}
	})
	start := time.Now()
	editConfigMap(t, f.ns, "settings", "hand-edit")
	eventually(t, "the edit to be reverted", func() error {
		cm, err := getConfigMap(t, f.ns, "settings")
		if err != nil || cm.Data["value"] != "from-git" {
			return fmt.Errorf("value = %v (%v)", cm.Data, err)
		}
		return nil
	})
	t.Logf("reverted within %s", time.Since(start))
	rec := waitDriftRecord(t, key, "corrected")
	if rec.Manager != "kubectl-edit" || rec.Object != "ConfigMap/"+f.ns+"/settings" {
		t.Errorf("record = %+v, want the edit attributed to kubectl-edit", rec)
	}
	if strings.Join(rec.Fields, ",") != ".data.value" {
		t.Errorf("fields = %v, want .data.value", rec.Fields)
	}
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(f.ns)); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs.Items {
		found = found || (e.Reason == "Drift" && strings.Contains(e.Note, "kubectl-edit") && strings.Contains(e.Note, ".data.value"))
	}
	if !found {
		t.Error("no Drift event names the manager and the field")
	}
}

func TestDriftDeletedObjectRecreated(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		return map[string]string{"app/cm.yaml": configMap(ns, "settings", "from-git")}
	})
	cm, _ := getConfigMap(t, f.ns, "settings")
	if err := env.Client.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the object to be recreated", func() error {
		got, err := getConfigMap(t, f.ns, "settings")
		if err != nil || got.UID == cm.UID {
			return fmt.Errorf("not recreated yet: %v", err)
		}
		return nil
	})
	waitDriftRecord(t, key, "recreated")
}

func TestDriftReportLeavesTheChange(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		return map[string]string{"app/cm.yaml": configMap(ns, "settings", "from-git")}
	}, func(s *v1alpha1.Stack) { s.Spec.Drift = v1alpha1.DriftReport })
	editConfigMap(t, f.ns, "settings", "hand-edit")
	rec := waitDriftRecord(t, key, "reported")
	if rec.Manager != "kubectl-edit" {
		t.Errorf("record = %+v", rec)
	}
	time.Sleep(time.Second) // a correction would land within this
	if cm, _ := getConfigMap(t, f.ns, "settings"); cm.Data["value"] != "hand-edit" {
		t.Errorf("report must leave the change: %v", cm.Data)
	}

	// A reconcile request re-applies the Stack, as docs/drift.md says,
	// although the render is the one already applied.
	requestReconcile(t, &v1alpha1.Stack{}, key)
	eventually(t, "a reconcile request to re-apply Git's value", func() error {
		if cm, _ := getConfigMap(t, f.ns, "settings"); cm.Data["value"] != "from-git" {
			return fmt.Errorf("value = %q", cm.Data["value"])
		}
		return nil
	})
}

func TestDriftIgnoreAnnotationRespected(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		return map[string]string{"app/cm.yaml": annotatedConfigMap(ns, "settings", "from-git", v1alpha1.DriftIgnoreAnnotation, "ignore")}
	})
	editConfigMap(t, f.ns, "settings", "hand-edit")
	time.Sleep(1500 * time.Millisecond)
	if cm, _ := getConfigMap(t, f.ns, "settings"); cm.Data["value"] != "hand-edit" {
		t.Errorf("an object annotated drift: ignore keeps the edit: %v", cm.Data)
	}
	var s v1alpha1.Stack
	if err := get(t, key, &s); err != nil || len(s.Status.Drift) != 0 {
		t.Errorf("no drift may be recorded: %+v (%v)", s.Status.Drift, err)
	}
}

func TestDriftFieldsNotAppliedAreNotFought(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		// No replicas: an HPA (here, a patch by its manager) owns them.
		return map[string]string{"app/deploy.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`, ns)}
	})
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "web"}}
	patch := []byte(`{"spec":{"replicas":5}}`)
	if err := env.Client.Patch(context.Background(), d, client.RawPatch(types.MergePatchType, patch), client.FieldOwner("horizontal-pod-autoscaler")); err != nil {
		t.Fatal(err)
	}
	before, _ := requests.counts(f.ns)
	time.Sleep(1500 * time.Millisecond)
	if err := get(t, client.ObjectKeyFromObject(d), d); err != nil || ptr.Deref(d.Spec.Replicas, 0) != 5 {
		t.Errorf("replicas set by the HPA must stay: %v (%v)", d.Spec.Replicas, err)
	}
	var s v1alpha1.Stack
	if err := get(t, key, &s); err != nil || len(s.Status.Drift) != 0 {
		t.Errorf("no drift may be recorded for a field the Stack does not apply: %+v", s.Status.Drift)
	}
	if after, _ := requests.counts(f.ns); after-before != 0 {
		n := after - before
		t.Errorf("the controllers wrote %d times: a field they do not apply must cause no loop", n)
	}
}

// TestSteadyStateIsFree: interval reconciles of a Stack whose source,
// render and objects did not change make no write and no dry-run request.
func TestSteadyStateIsFree(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		svc := fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: %s}\nspec:\n  ports: [{port: 80}]\n", ns)
		return map[string]string{"app/cm.yaml": configMap(ns, "settings", "v"), "app/svc.yaml": svc}
	}, func(s *v1alpha1.Stack) { s.Spec.Interval = metav1.Duration{Duration: time.Second} })
	time.Sleep(1500 * time.Millisecond) // let the first interval reconcile settle
	writes, dryRuns := requests.counts(f.ns)
	reconciles := stackReconciles(t)
	time.Sleep(3500 * time.Millisecond)
	if n := stackReconciles(t) - reconciles; n < 2 {
		t.Fatalf("only %v Stack reconciles ran in 3.5s with a 1s interval: the test proves nothing", n)
	}
	w, d := requests.counts(f.ns)
	if w != writes {
		t.Errorf("%d write requests during no-op reconciles, want 0", w-writes)
	}
	if d != dryRuns {
		t.Errorf("%d dry-run requests during no-op reconciles, want 0", d-dryRuns)
	}
	var s v1alpha1.Stack
	if err := get(t, key, &s); err != nil || stackReady(&s).Status != metav1.ConditionTrue {
		t.Errorf("the Stack must stay Ready: %v", err)
	}
}

func stackReconciles(t *testing.T) float64 {
	t.Helper()
	mfs, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "flotilla_reconcile_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == "Stack" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// TestDefaultedFieldsCauseNoLoop: fields the API server defaults on
// admission (a Deployment's strategy, revisionHistoryLimit, a container's
// imagePullPolicy and terminationMessagePath, a Service's clusterIP and
// sessionAffinity) are not Flotilla's, so they are never "corrected".
func TestDefaultedFieldsCauseNoLoop(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string {
		return map[string]string{
			"app/deploy.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`, ns),
			"app/svc.yaml": fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: %s}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n", ns),
		}
	}, func(s *v1alpha1.Stack) { s.Spec.Interval = metav1.Duration{Duration: time.Second} })
	var d appsv1.Deployment
	if err := get(t, client.ObjectKey{Namespace: f.ns, Name: "web"}, &d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.RevisionHistoryLimit == nil || d.Spec.Template.Spec.Containers[0].ImagePullPolicy == "" {
		t.Fatalf("the API server should have defaulted fields: %+v", d.Spec)
	}
	time.Sleep(time.Second)
	before, _ := requests.counts(f.ns)
	time.Sleep(3 * time.Second) // three intervals
	if after, _ := requests.counts(f.ns); after != before {
		t.Errorf("%d writes: defaulted fields must not be fought over", after-before)
	}
	var s v1alpha1.Stack
	if err := get(t, key, &s); err != nil || len(s.Status.Drift) != 0 {
		t.Errorf("no drift may be recorded for defaulted fields: %+v (%v)", s.Status.Drift, err)
	}
}
