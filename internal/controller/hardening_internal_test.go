package controller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/source/artifact"
)

// A file:// URL reads the agent's own file system (every tenant's
// artifacts): an agent refuses it unless started with --allow-file-urls
// (#16, item 14). The repository itself is never opened.
func TestGitRepositoryRefusesFileURLsUnlessAllowed(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "escape", Generation: 1, Finalizers: []string{v1alpha1.FinalizerName}},
		Spec: v1alpha1.GitRepositorySpec{
			URL: "FILE:///data/git-cache/other-tenant/fleet", Interval: metav1.Duration{Duration: time.Minute},
			Ref: &v1alpha1.GitRepositoryRef{Branch: "main"},
		},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(repo).WithStatusSubresource(repo).Build()
	dir := t.TempDir()
	r := &GitRepositoryReconciler{Client: c, Store: artifact.NewStore(dir), CacheDir: dir, Events: events.NewFakeRecorder(10)}
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(repo)})
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != 0 {
		t.Errorf("a refused URL is Stalled and not retried, got requeue after %s", res.RequeueAfter)
	}
	var got v1alpha1.GitRepository
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(repo), &got); err != nil {
		t.Fatal(err)
	}
	stalled := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition)
	if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != v1alpha1.ReasonAccessDenied {
		t.Fatalf("Stalled = %+v, want True AccessDenied", stalled)
	}
	if !strings.Contains(stalled.Message, "--allow-file-urls") {
		t.Errorf("the message must say how to allow file:// URLs: %q", stalled.Message)
	}
	if got.Status.Artifact != nil {
		t.Errorf("an artifact was stored from a refused URL: %+v", got.Status.Artifact)
	}
}

// A drift correction refused by the API server may quote the object's
// values: the event and status get them masked (#16, item 14).
func TestDriftCorrectionErrorsAreMasked(t *testing.T) {
	const value = "drift-secret-value-8Hq"
	desired := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "db", "namespace": "app"},
		"stringData": map[string]any{"password": value},
	}}
	refused := errors.New(`Secret "db" is invalid: data[password]: Invalid value: "` + value + `"; substituted: s3cr3t-var`)
	got := maskCorrection(redact.New("s3cr3t-var"), desired, refused).Error()
	for _, leaked := range []string{value, "s3cr3t-var"} {
		if strings.Contains(got, leaked) {
			t.Errorf("%q leaks: %s", leaked, got)
		}
	}
	if !strings.Contains(got, `Secret "db" is invalid`) {
		t.Errorf("the reason itself must stay: %s", got)
	}
	if got := maskCorrection(nil, desired, refused).Error(); strings.Contains(got, value) {
		t.Errorf("without the Stack's variables the Secret's value still leaks: %s", got)
	}
}
