package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
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

// A commit that would prune most of a Stack's objects is held back until the
// cap is raised; what it adds or changes is applied meanwhile.
func TestStackPruneCap(t *testing.T) {
	f, _ := newStackFixture(t, map[string]string{"README.md": "fleet\n"})
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("app/cm-%d.yaml", i)] = configMap(f.ns, fmt.Sprintf("cm-%d", i), "1")
	}
	rev := f.update(t, files)
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)

	drop := map[string]string{}
	for i := range 6 {
		drop[fmt.Sprintf("app/cm-%d.yaml", i)] = ""
	}
	drop["app/cm-9.yaml"] = configMap(f.ns, "cm-9", "2")
	f.update(t, drop)
	s := waitStack(t, key, metav1.ConditionFalse, v1alpha1.ReasonPruneFailed, "")
	if msg := stackReady(s).Message; !strings.Contains(msg, "refusing to prune 6 of the 10") || !meta.IsStatusConditionTrue(s.Status.Conditions, v1alpha1.StalledCondition) {
		t.Errorf("ready = %q, conditions %+v", msg, s.Status.Conditions)
	}
	if _, err := getConfigMap(t, f.ns, "cm-0"); err != nil {
		t.Errorf("nothing may be pruned above the cap: %v", err)
	}
	if cm, _ := getConfigMap(t, f.ns, "cm-9"); cm.Data["value"] != "2" {
		t.Errorf("the rest of the revision is applied: %v", cm.Data)
	}
	if len(s.Status.Inventory) != 10 {
		t.Errorf("the held-back objects stay in the inventory: %v", inventoryNames(s))
	}

	var latest v1alpha1.Stack
	if err := get(t, key, &latest); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.MaxPrunePercent = 100
	if err := env.Client.Patch(context.Background(), &latest, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the prune once the cap is lifted", func() error {
		if _, err := getConfigMap(t, f.ns, "cm-0"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("cm-0 still there: %v", err)
		}
		return nil
	})
}

// A health wait that can no longer succeed ends when a new revision arrives:
// the fix is applied long before the old wait's timeout.
func TestNewRevisionCancelsHealthWait(t *testing.T) {
	f, _ := newStackFixture(t, map[string]string{"README.md": "fleet\n"})
	stuck := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`, f.ns)
	f.update(t, map[string]string{"app/deploy.yaml": stuck})
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) {
		s.Spec.Wait = true
		s.Spec.Timeout = &metav1.Duration{Duration: 5 * time.Minute}
	})
	eventually(t, "the health wait to start", func() error {
		var s v1alpha1.Stack
		if err := get(t, key, &s); err != nil {
			return err
		}
		if len(s.Status.Inventory) == 0 && !meta.IsStatusConditionTrue(s.Status.Conditions, v1alpha1.ReconcilingCondition) {
			return fmt.Errorf("not waiting yet: %+v", s.Status.Conditions)
		}
		return nil
	})
	start := time.Now()
	fixed := f.update(t, map[string]string{"app/deploy.yaml": "", "app/cm.yaml": configMap(f.ns, "fixed", "1")})
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, fixed)
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the new revision waited %s for the old health check", d)
	}
}

// An agent that restarts with an empty data directory finds every Stack's
// artifact gone until its GitRepository is fetched again. A Stack that
// applied that revision keeps its status meanwhile: nothing happened to
// its objects, and Ready=False on every agent restart would page someone.
func TestStackKeepsItsStatusWhileItsAppliedRevisionIsFetchedAgain(t *testing.T) {
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/settings.yaml": configMap(ns, "settings", "1")}
	})
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) { s.Spec.RetryInterval = &metav1.Duration{Duration: time.Second} })
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	var repo v1alpha1.GitRepository
	if err := get(t, f.key, &repo); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dataDir, repo.Status.Artifact.Path)); err != nil {
		t.Fatal(err)
	}

	requestReconcile(t, &v1alpha1.Stack{}, key)
	var s v1alpha1.Stack
	eventually(t, "the Stack to handle the reconcile request", func() error {
		if err := get(t, key, &s); err != nil {
			return err
		}
		if s.Status.LastHandledReconcileAt != s.Annotations[v1alpha1.ReconcileRequestAnnotation] {
			return fmt.Errorf("lastHandledReconcileAt = %q", s.Status.LastHandledReconcileAt)
		}
		return nil
	})
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if err := get(t, key, &s); err != nil {
			t.Fatal(err)
		}
		if c := stackReady(&s); c == nil || c.Status != metav1.ConditionTrue || s.Status.LastAppliedRevision != rev {
			t.Fatalf("while its artifact is fetched again the Stack says %+v (lastAppliedRevision %s), want Ready at %s as before", c, s.Status.LastAppliedRevision, rev)
		}
	}

	requestReconcile(t, &v1alpha1.GitRepository{}, f.key)
	waitRevision(t, f.key, rev)
	eventually(t, "the artifact stored again", func() error {
		_, err := os.Stat(filepath.Join(dataDir, repo.Status.Artifact.Path))
		return err
	})
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
}

// A Stack in a namespace being deleted, whose service account lost its
// RoleBinding first, cannot prune: it lets go instead of holding the
// namespace Terminating forever (kube-controller-manager does not run here,
// so the namespace stays Terminating and the test deletes the Stack itself).
func TestStackInATerminatingNamespaceWithoutAccessIsReleased(t *testing.T) {
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/cm.yaml": configMap(ns, "settings", "v")}
	})
	ctx := context.Background()
	createDeployer(t, f.ns)
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) { s.Spec.ServiceAccountName = "deployer" })
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)

	if err := env.Client.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "deployer-configmaps"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Stack to let go of its finalizer", func() error {
		return expectGone(t, key)
	})
}

// A GitRepository whose status names another object's artifact (written by
// anyone allowed to update its status) does not make a Stack render
// another tenant's repository.
func TestStackRefusesAnArtifactOfAnotherGitRepository(t *testing.T) {
	victim, _ := newStackFixture(t, map[string]string{"app/cm.yaml": configMap("victim", "from-another-tenant", "secret")})
	var stolen v1alpha1.GitRepository
	if err := get(t, victim.key, &stolen); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	key := createGitRepository(t, ns, victim.repo.root.FileURL("fleet"), func(g *v1alpha1.GitRepository) { g.Spec.Suspend = true })
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var forged v1alpha1.GitRepository
		if err := get(t, key, &forged); err != nil {
			return err
		}
		forged.Status.Artifact = stolen.Status.Artifact.DeepCopy()
		return env.Client.Status().Update(context.Background(), &forged)
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &stackFixture{ns: ns, key: key}
	stack := createStack(t, f, "app", "app")
	s := waitStackFailed(t, stack, v1alpha1.ReasonSourceNotReady, "")
	if msg := stackReady(s).Message; !strings.Contains(msg, "not its own") {
		t.Errorf("message %q does not say the artifact is not the GitRepository's own", msg)
	}
}

// After an apply that stalled on the prune cap, the drift watch follows
// what that apply wrote: a hand edit of an object the new revision changed
// is reverted to the new revision's value, not to the previous one.
func TestDriftFollowsWhatAStalledApplyWrote(t *testing.T) {
	f, _ := newStackFixture(t, map[string]string{"README.md": "fleet\n"})
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("app/cm-%d.yaml", i)] = configMap(f.ns, fmt.Sprintf("cm-%d", i), "1")
	}
	rev := f.update(t, files)
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)

	drop := map[string]string{"app/cm-9.yaml": configMap(f.ns, "cm-9", "2")}
	for i := range 6 {
		drop[fmt.Sprintf("app/cm-%d.yaml", i)] = ""
	}
	f.update(t, drop)
	waitStack(t, key, metav1.ConditionFalse, v1alpha1.ReasonPruneFailed, "")

	editConfigMap(t, f.ns, "cm-9", "by hand")
	eventually(t, "the hand edit reverted to the new revision's value", func() error {
		cm, err := getConfigMap(t, f.ns, "cm-9")
		if err != nil {
			return err
		}
		if got := cm.Data["value"]; got != "2" {
			return fmt.Errorf("cm-9 value = %q", got)
		}
		return nil
	})
	time.Sleep(quiet)
	if cm, _ := getConfigMap(t, f.ns, "cm-9"); cm.Data["value"] != "2" {
		t.Errorf("cm-9 went back to %q after the revert", cm.Data["value"])
	}
}

// The objects an apply may create are in the inventory before it creates
// any: an apply interrupted midway orphans nothing. The API server's
// resource versions (etcd revisions here) order the two writes.
func TestInventoryListsNewObjectsBeforeTheyAreCreated(t *testing.T) {
	f, rev := newStackFixture(t, map[string]string{"app/cm-a.yaml": configMap("", "cm-a", "1")})
	ctx := context.Background()
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) { s.Spec.TargetNamespace = f.ns })
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)

	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, &v1alpha1.StackList{}, client.InNamespace(f.ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	rev = f.update(t, map[string]string{"app/cm-b.yaml": configMap("", "cm-b", "1")})
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	cm, err := getConfigMap(t, f.ns, "cm-b")
	if err != nil {
		t.Fatal(err)
	}
	created, _ := strconv.ParseInt(cm.ResourceVersion, 10, 64)

	listed := int64(-1)
	for listed < 0 {
		select {
		case ev := <-w.ResultChan():
			s, ok := ev.Object.(*v1alpha1.Stack)
			if !ok || !slices.Contains(inventoryNames(s), "ConfigMap/cm-b") {
				continue
			}
			listed, _ = strconv.ParseInt(s.ResourceVersion, 10, 64)
		case <-time.After(10 * time.Second):
			t.Fatal("no Stack update listed ConfigMap/cm-b in the inventory")
		}
	}
	if listed >= created {
		t.Errorf("the inventory listed cm-b at resource version %d, after cm-b was created at %d", listed, created)
	}
}
