package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// A Stack deleted without prune releases its objects: a new Stack for the
// same path adopts them instead of failing on a Stack that no longer exists.
func TestStackDeletedWithoutPruneReleasesObjects(t *testing.T) {
	f, _ := newStackFixture(t, map[string]string{"README.md": "fleet\n"})
	rev := f.update(t, map[string]string{"app/cm.yaml": configMap(f.ns, "settings", "v")})
	old := createStack(t, f, "old", "app", func(s *v1alpha1.Stack) { s.Spec.Prune = false })
	waitStack(t, old, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	if err := env.Client.Delete(context.Background(), &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "old"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old Stack to go", func() error {
		return expectGone(t, old)
	})
	cm, err := getConfigMap(t, f.ns, "settings")
	if err != nil || cm.Labels["stack.flotilla.io/name"] != "" {
		t.Fatalf("the object stays, without owner labels: %v (%v)", cm.Labels, err)
	}
	adopted := createStack(t, f, "new", "app")
	waitStack(t, adopted, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
}

// A failing Stack does not stay Reconciling: kstatus must see it failed.
func TestFailingStackIsNotLeftReconciling(t *testing.T) {
	f, _ := newStackFixture(t, map[string]string{"README.md": "fleet\n"})
	f.update(t, map[string]string{"app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n"})
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) { s.Spec.RetryInterval = &metav1.Duration{Duration: time.Second} })
	waitStack(t, key, metav1.ConditionFalse, v1alpha1.ReasonBuildFailed, "")
	time.Sleep(2500 * time.Millisecond) // two retries
	var s v1alpha1.Stack
	if err := get(t, key, &s); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ReconcilingCondition); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("Reconciling stays True on a failing Stack: %+v", s.Status.Conditions)
	}
	if s.Status.LastAttemptedRevision == "" {
		t.Error("lastAttemptedRevision must name the failing revision")
	}
}

// A change of spec.ignore is honoured even when the first attempt at the
// new generation failed.
func TestGitRepositoryIgnoreChangeAfterFailure(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	sha := r.push(t, map[string]string{"app.yaml": "a: 1\n", "keep.yaml": "k: 1\n"})
	key := createGitRepository(t, ns, r.root.FileURL("fleet"), withInterval(time.Hour))
	obj := waitRevision(t, key, "main@sha1:"+sha)
	patch := client.MergeFrom(obj.DeepCopy())
	ignore := "app.yaml\n"
	obj.Spec.Ignore = &ignore
	obj.Spec.Ref = &v1alpha1.GitRepositoryRef{Branch: "missing"}
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	waitNotReady(t, key, v1alpha1.ReasonRefNotFound)
	patch = client.MergeFrom(obj.DeepCopy())
	obj.Spec.Ref = &v1alpha1.GitRepositoryRef{Branch: "main"}
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	obj = waitRevision(t, key, "main@sha1:"+sha)
	if _, err := artifactFile(t, obj, "app.yaml"); err == nil {
		t.Error("app.yaml is ignored now and must not be in the artifact")
	}
	if _, err := artifactFile(t, obj, "keep.yaml"); err != nil {
		t.Errorf("keep.yaml must stay: %v", err)
	}
}

func expectGone(t *testing.T, key client.ObjectKey) error {
	t.Helper()
	if err := get(t, key, &v1alpha1.Stack{}); !apierrors.IsNotFound(err) {
		return fmt.Errorf("still there (get: %v)", err)
	}
	return nil
}
