package dashboard

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

func TestStackDetailTreeEventsDriftAndDependencies(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	ctx := context.Background()
	c := envA.Client
	labels := map[string]string{"app": "web"}
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}, Data: map[string]string{"k": "v"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"}, StringData: map[string]string{"token": "s3cr3t-marker"}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
				},
			},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	createStack(t, c, &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "infra"}, Spec: stackSpec(),
		Status: v1alpha1.StackStatus{Conditions: []metav1.Condition{readyCondition(metav1.ConditionTrue, "Succeeded", "applied")}},
	})
	older, newer := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second)), metav1.NewTime(time.Now().Truncate(time.Second))
	st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()}
	st.Spec.Path = "apps/prod"
	st.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "infra"}, {Name: "missing"}}
	st.Status = v1alpha1.StackStatus{
		LastAppliedRevision: revOld,
		Conditions: []metav1.Condition{
			readyCondition(metav1.ConditionFalse, "HealthCheckFailed", "Deployment/web not ready"),
			{Type: v1alpha1.ReconcilingCondition, Status: metav1.ConditionFalse, Reason: "Done", LastTransitionTime: newer},
		},
		Inventory: []v1alpha1.InventoryEntry{
			{Version: "v1", Kind: "Namespace", Name: ns},
			{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "settings"},
			{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "gone"},
			{Version: "v1", Kind: "Secret", Namespace: ns, Name: "token"},
			{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"},
		},
		Drift: []v1alpha1.DriftRecord{
			{Object: "ConfigMap/" + ns + "/settings", Action: "recreated", Time: older},
			{Object: "Deployment/" + ns + "/web", Fields: []string{".spec.replicas"}, Manager: "kubectl-scale", Action: "corrected", Time: newer},
		},
	}
	createStack(t, c, st)
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: "apps.1"},
		InvolvedObject: corev1.ObjectReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.StackKind, Namespace: ns, Name: "apps"},
		Type:           corev1.EventTypeWarning, Reason: "HealthCheckFailed", Message: "Deployment/web not ready", Count: 3,
		LastTimestamp: newer, FirstTimestamp: older,
	}
	other := ev.DeepCopy()
	other.Name, other.InvolvedObject.Name = "infra.1", "infra"
	for _, e := range []*corev1.Event{ev, other} {
		if err := c.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	s, ts := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA)}})
	var d StackDetail
	getJSON(t, ts.Client(), ts.URL+"/api/clusters/prod/stacks/"+ns+"/apps", http.StatusOK, &d)

	wantTree := []NamespaceNode{
		{Namespace: "", Objects: []ObjectNode{{Version: "v1", Kind: "Namespace", Name: ns, Health: "Current"}}},
		{Namespace: ns, Objects: []ObjectNode{
			{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "gone", Health: "NotFound"},
			{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "settings", Health: "Current"},
			{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web", Health: "InProgress"},
			{Version: "v1", Kind: "Secret", Namespace: ns, Name: "token", Health: "Current"},
		}},
	}
	if diff := cmp.Diff(wantTree, d.Tree, cmpIgnoreMessage()); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if msg := d.Tree[1].Objects[2].Message; msg == "" {
		t.Error("the InProgress Deployment has no message saying why")
	}
	if d.Cluster != "prod" || d.Source != "GitRepository/"+ns+"/fleet" || d.Path != "apps/prod" || d.Stack.Ready != "False" {
		t.Errorf("detail = cluster %q, source %q, path %q, ready %q", d.Cluster, d.Source, d.Path, d.Stack.Ready)
	}
	if len(d.Conditions) != 2 || d.Conditions[0].Type != "Ready" || d.Conditions[0].Status != "False" {
		t.Errorf("conditions = %+v: want Ready False and Reconciling", d.Conditions)
	}
	wantEvents := []Event{{Type: "Warning", Reason: "HealthCheckFailed", Message: "Deployment/web not ready", Count: 3, Time: newer.UTC()}}
	if diff := cmp.Diff(wantEvents, d.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantDrift := []Drift{
		{Object: "Deployment/" + ns + "/web", Fields: []string{".spec.replicas"}, Manager: "kubectl-scale", Action: "corrected", Time: newer.UTC()},
		{Object: "ConfigMap/" + ns + "/settings", Action: "recreated", Time: older.UTC()},
	}
	if diff := cmp.Diff(wantDrift, d.Drift); diff != "" {
		t.Errorf("drift, newest first (-want +got):\n%s", diff)
	}
	wantDeps := []Dependency{{Namespace: ns, Name: "infra", Ready: "True"}, {Namespace: ns, Name: "missing", Ready: "Unknown"}}
	if diff := cmp.Diff(wantDeps, d.DependsOn); diff != "" {
		t.Errorf("dependsOn (-want +got):\n%s", diff)
	}
	if d.Commit != nil {
		t.Errorf("commit = %+v without --repo: want none", d.Commit)
	}

	t.Run("unknown cluster or Stack is a 404 with a JSON error", func(t *testing.T) {
		for _, path := range []string{"/api/clusters/nope/stacks/" + ns + "/apps", "/api/clusters/prod/stacks/" + ns + "/nope"} {
			var e apiError
			getJSON(t, ts.Client(), ts.URL+path, http.StatusNotFound, &e)
			if e.Error == "" {
				t.Errorf("GET %s: no error message", path)
			}
		}
	})
	_ = s
}

// cmpIgnoreMessage compares ObjectNodes without their kstatus message,
// whose words are kstatus's.
func cmpIgnoreMessage() cmp.Option {
	return cmp.Transformer("noMessage", func(n ObjectNode) ObjectNode {
		n.Message = ""
		return n
	})
}
