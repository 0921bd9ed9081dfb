package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// stackFixture is a namespace with a file:// GitRepository named "fleet".
type stackFixture struct {
	ns   string
	repo *repo
	key  client.ObjectKey // the GitRepository
}

func newStackFixture(t *testing.T, files map[string]string) (*stackFixture, string) {
	t.Helper()
	f := &stackFixture{ns: newNamespace(t), repo: newRepo(t)}
	sha := f.repo.push(t, files)
	f.key = createGitRepository(t, f.ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	return f, "main@sha1:" + sha
}

// update pushes files (an empty content removes the file) and waits for the
// source to follow; it returns the new revision.
func (f *stackFixture) update(t *testing.T, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		if c == "" {
			f.repo.wd.Remove(t, p)
			delete(files, p)
		}
	}
	sha := f.repo.push(t, files)
	requestReconcile(t, &v1alpha1.GitRepository{}, f.key)
	waitRevision(t, f.key, "main@sha1:"+sha)
	return "main@sha1:" + sha
}

type stackOption func(*v1alpha1.Stack)

func createStack(t *testing.T, f *stackFixture, name, path string, opts ...stackOption) client.ObjectKey {
	t.Helper()
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:      path,
			Interval:  metav1.Duration{Duration: time.Hour},
			Timeout:   &metav1.Duration{Duration: 20 * time.Second},
			Prune:     true,
		},
	}
	for _, o := range opts {
		o(s)
	}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatalf("creating Stack: %v", err)
	}
	return client.ObjectKeyFromObject(s)
}

func requestReconcile(t *testing.T, obj client.Object, key client.ObjectKey) {
	t.Helper()
	if err := get(t, key, obj); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[v1alpha1.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	obj.SetAnnotations(a)
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
}

func stackReady(s *v1alpha1.Stack) *metav1.Condition {
	return meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ReadyCondition)
}

// waitStack waits until Ready has status and reason (and, when revision is
// set, lastAppliedRevision equals it).
func waitStack(t *testing.T, key client.ObjectKey, status metav1.ConditionStatus, reason, revision string) *v1alpha1.Stack {
	t.Helper()
	s := &v1alpha1.Stack{}
	eventually(t, fmt.Sprintf("Stack %s Ready=%s %s %s", key, status, reason, revision), func() error {
		if err := get(t, key, s); err != nil {
			return err
		}
		c := stackReady(s)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != s.Generation {
			return fmt.Errorf("ready = %+v", c)
		}
		if revision != "" && s.Status.LastAppliedRevision != revision {
			return fmt.Errorf("lastAppliedRevision = %s", s.Status.LastAppliedRevision)
		}
		return nil
	})
	return s
}

func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

func getConfigMap(t *testing.T, ns, name string) (*corev1.ConfigMap, error) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	return cm, get(t, client.ObjectKey{Namespace: ns, Name: name}, cm)
}

func inventoryNames(s *v1alpha1.Stack) []string {
	var out []string
	for _, e := range s.Status.Inventory {
		out = append(out, e.Kind+"/"+e.Name)
	}
	return out
}

func TestStackCreateUpdatePrune(t *testing.T) {
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, map[string]string{
		"app/a.yaml": configMap(ns, "a", "1"),
		"app/b.yaml": configMap(ns, "b", "1"),
	})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	key := createStack(t, f, "app", "app")
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)
	if got := inventoryNames(s); strings.Join(got, ",") != "ConfigMap/a,ConfigMap/b" {
		t.Errorf("inventory = %v", got)
	}
	if s.Status.LastChange == nil || s.Status.LastChange.Created != 2 {
		t.Errorf("lastChange = %+v, want 2 created", s.Status.LastChange)
	}
	cm, err := getConfigMap(t, ns, "a")
	if err != nil || cm.Labels["stack.flotilla.io/name"] != "app" {
		t.Fatalf("configmap a: %v %v", cm.Labels, err)
	}

	rev := f.update(t, map[string]string{"app/a.yaml": configMap(ns, "a", "2"), "app/b.yaml": ""})
	s = waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	if cm, _ := getConfigMap(t, ns, "a"); cm.Data["value"] != "2" {
		t.Errorf("a not updated: %v", cm.Data)
	}
	if _, err := getConfigMap(t, ns, "b"); !apierrors.IsNotFound(err) {
		t.Errorf("b must be pruned, get = %v", err)
	}
	if c := s.Status.LastChange; c == nil || c.Configured != 1 || c.Deleted != 1 {
		t.Errorf("lastChange = %+v, want 1 configured 1 deleted", c)
	}
	if got := inventoryNames(s); strings.Join(got, ",") != "ConfigMap/a" {
		t.Errorf("inventory after prune = %v", got)
	}
}

func TestStackBrokenYAMLKeepsLastState(t *testing.T) {
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, map[string]string{"app/a.yaml": configMap(ns, "a", "1")})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)

	f.update(t, map[string]string{"app/a.yaml": configMap(ns, "a", "2"), "app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n"})
	s := waitStack(t, key, metav1.ConditionFalse, v1alpha1.ReasonBuildFailed, "main@sha1:"+sha)
	if msg := stackReady(s).Message; !strings.Contains(msg, "broken.yaml") {
		t.Errorf("message must name the file: %q", msg)
	}
	if cm, err := getConfigMap(t, ns, "a"); err != nil || cm.Data["value"] != "1" {
		t.Errorf("last good state must stay: %v %v", cm.Data, err)
	}
	if len(s.Status.Inventory) != 1 {
		t.Errorf("inventory must stay: %v", inventoryNames(s))
	}
}

func TestStackRefusedObjectAppliesNothing(t *testing.T) {
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	badService := fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n  namespace: %s\nspec:\n  ports:\n  - port: 99999\n", ns)
	sha := f.repo.push(t, map[string]string{"app/a.yaml": configMap(ns, "a", "1"), "app/svc.yaml": badService})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	key := createStack(t, f, "app", "app")
	s := waitStack(t, key, metav1.ConditionFalse, v1alpha1.ReasonValidationFailed, "")
	if msg := stackReady(s).Message; !strings.Contains(msg, "Service/"+ns+"/bad") || !strings.Contains(msg, "nothing was applied") {
		t.Errorf("message must name the refused object: %q", msg)
	}
	if _, err := getConfigMap(t, ns, "a"); !apierrors.IsNotFound(err) {
		t.Errorf("nothing of the revision may be applied, configmap a: %v", err)
	}
}

func TestStackDependsOnChainAndCycle(t *testing.T) {
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, map[string]string{
		"first/a.yaml":  configMap(ns, "first", "1"),
		"second/b.yaml": configMap(ns, "second", "1"),
	})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	dependsOn := func(names ...string) stackOption {
		return func(s *v1alpha1.Stack) {
			for _, n := range names {
				s.Spec.DependsOn = append(s.Spec.DependsOn, v1alpha1.DependencyReference{Name: n})
			}
		}
	}
	second := createStack(t, f, "second", "second", dependsOn("first"))
	s := waitStack(t, second, metav1.ConditionFalse, v1alpha1.ReasonDependencyNotReady, "")
	if !strings.Contains(stackReady(s).Message, ns+"/first") {
		t.Errorf("message must name the dependency: %q", stackReady(s).Message)
	}
	first := createStack(t, f, "first", "first")
	waitStack(t, first, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)
	// The dependency turning Ready triggers the dependent; its interval is an hour.
	waitStack(t, second, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)

	x := createStack(t, f, "x", "first", dependsOn("y"))
	createStack(t, f, "y", "second", dependsOn("x"))
	s = waitStack(t, x, metav1.ConditionFalse, v1alpha1.ReasonDependencyCycle, "")
	if msg := stackReady(s).Message; !strings.Contains(msg, ns+"/x -> "+ns+"/y -> "+ns+"/x") {
		t.Errorf("message must name the cycle: %q", msg)
	}
	if !meta.IsStatusConditionTrue(s.Status.Conditions, v1alpha1.StalledCondition) {
		t.Errorf("a cycle is Stalled: %+v", s.Status.Conditions)
	}
}

func TestStackDeletionPrunesOnlyWithPrune(t *testing.T) {
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, map[string]string{"pruned/a.yaml": configMap(ns, "pruned", "1"), "kept/b.yaml": configMap(ns, "kept", "1")})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	pruned := createStack(t, f, "pruned", "pruned")
	kept := createStack(t, f, "kept", "kept", func(s *v1alpha1.Stack) { s.Spec.Prune = false })
	waitStack(t, pruned, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)
	waitStack(t, kept, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)
	for _, key := range []client.ObjectKey{pruned, kept} {
		if err := env.Client.Delete(context.Background(), &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the pruning Stack's objects to go", func() error {
		if _, err := getConfigMap(t, ns, "pruned"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("configmap pruned still there: %v", err)
		}
		if err := get(t, pruned, &v1alpha1.Stack{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("stack still there: %v", err)
		}
		return nil
	})
	if _, err := getConfigMap(t, ns, "kept"); err != nil {
		t.Errorf("a Stack without prune leaves its objects: %v", err)
	}
}

func TestStackHealthTimeoutNamesObject(t *testing.T) {
	ns := newNamespace(t)
	deploy := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`, ns)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, map[string]string{"app/deploy.yaml": deploy})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) {
		s.Spec.Wait = true
		s.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	})
	s := waitStack(t, key, metav1.ConditionFalse, v1alpha1.ReasonHealthCheckFailed, "")
	if msg := stackReady(s).Message; !strings.Contains(msg, "Deployment/"+ns+"/web") {
		t.Errorf("message must name the object not ready: %q", msg)
	}
	if len(s.Status.Inventory) != 1 {
		t.Errorf("the applied Deployment is in the inventory: %v", inventoryNames(s))
	}
}

func TestStackSubstitutionFromConfigMapAndSecret(t *testing.T) {
	ns := newNamespace(t)
	const secretValue = "subst-marker-8c1d"
	tmpl := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: %s\ndata:\n  region: ${REGION}\n  token: ${TOKEN}\n  tier: ${TIER:=standard}\n", ns)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	sha := f.repo.push(t, map[string]string{"app/cm.yaml": tmpl})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, "main@sha1:"+sha)
	if err := env.Client.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster"}, Data: map[string]string{"REGION": "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	createSecret(t, ns, "cluster-secrets", map[string][]byte{"TOKEN": []byte(secretValue)})
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) {
		s.Spec.PostBuild = &v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{
			{Kind: "ConfigMap", Name: "cluster"}, {Kind: "Secret", Name: "cluster-secrets"}, {Kind: "ConfigMap", Name: "absent", Optional: true},
		}}
	})
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "main@sha1:"+sha)
	cm, err := getConfigMap(t, ns, "vars")
	if err != nil || cm.Data["region"] != "eu-west-1" || cm.Data["token"] != secretValue || cm.Data["tier"] != "standard" {
		t.Fatalf("substituted data = %v (%v)", cm.Data, err)
	}
}
