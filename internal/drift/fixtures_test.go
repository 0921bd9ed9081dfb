package drift_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// serviceAccount is the ServiceAccount every test's Stacks apply as.
const serviceAccount = "deployer"

var nsCount atomic.Int32

// manageAll are the verbs a Stack's ServiceAccount needs to apply, prune
// and watch a kind.
var manageAll = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// applyOnly may apply and prune a kind, but not list or watch it.
var applyOnly = []string{"get", "create", "update", "patch", "delete"}

// tenant is a namespace whose ServiceAccount "deployer" is bound by a
// RoleBinding to a Role of that namespace only, with a file:// source
// "fleet".
type tenant struct {
	ns   string
	wd   *gitserver.Workdir
	repo client.ObjectKey
}

// newTenant creates the namespace, the Role (rules) and its binding, and
// the GitRepository serving files (given the namespace).
func newTenant(t *testing.T, rules []rbacv1.PolicyRule, files func(ns string) map[string]string) *tenant {
	t.Helper()
	controlplane.Require(t, env)
	ns := fmt.Sprintf("drift-%d-%d", os.Getpid()%1000, nsCount.Add(1))
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: serviceAccount}})
	create(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: serviceAccount}, Rules: rules})
	create(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: serviceAccount},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: serviceAccount},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: serviceAccount}},
	})
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	tn := &tenant{ns: ns, wd: gitserver.NewWorkdir(t, root.Path("fleet"))}
	for p, c := range files(ns) {
		tn.wd.WriteFile(t, p, c)
	}
	tn.wd.Commit(t, "fleet")
	tn.wd.Push(t, "main")
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: v1alpha1.GitRepositorySpec{URL: root.FileURL("fleet"), Interval: metav1.Duration{Duration: time.Hour},
			Ref: &v1alpha1.GitRepositoryRef{Branch: "main"}},
	}
	create(t, repo)
	tn.repo = client.ObjectKeyFromObject(repo)
	return tn
}

// rules grants verbs on ConfigMaps and on Deployments.
func rules(configMaps, deployments []string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: configMaps},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: deployments},
	}
}

// stack creates a Stack that applies path as the tenant's ServiceAccount.
func (tn *tenant) stack(t *testing.T, name, path string) client.ObjectKey {
	t.Helper()
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef:          v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:               path,
			Interval:           metav1.Duration{Duration: time.Hour},
			Timeout:            &metav1.Duration{Duration: 20 * time.Second},
			Prune:              true,
			ServiceAccountName: serviceAccount,
		},
	}
	create(t, s)
	return client.ObjectKeyFromObject(s)
}

// identity is the user name the tenant's Stacks act as.
func (tn *tenant) identity() string {
	return "system:serviceaccount:" + tn.ns + ":" + serviceAccount
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if last = cond(); last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, last)
}

// waitReady waits for the Stack to be Ready and returns it.
func waitReady(t *testing.T, key client.ObjectKey) *v1alpha1.Stack {
	t.Helper()
	s := &v1alpha1.Stack{}
	eventually(t, "Stack "+key.String()+" Ready", func() error {
		if err := env.Client.Get(context.Background(), key, s); err != nil {
			return err
		}
		c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ReadyCondition)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != s.Generation {
			return fmt.Errorf("ready = %+v", c)
		}
		return nil
	})
	return s
}

func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

func deployment(ns, name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: web, image: %q}]
`, name, ns, name, name, image)
}

// editImage sets the image of the Deployment's container as field manager
// "kubectl-edit", the way `kubectl edit` does.
func editImage(t *testing.T, ns, name, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":%q}]}}}}`, image)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	err := env.Client.Patch(context.Background(), d, client.RawPatch(types.StrategicMergePatchType, []byte(patch)), client.FieldOwner("kubectl-edit"))
	if err != nil {
		t.Fatalf("editing Deployment %s/%s: %v", ns, name, err)
	}
}

// editValue sets data.value of the ConfigMap as field manager "kubectl-edit".
func editValue(t *testing.T, ns, name, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"data":{"value":%q}}`, value)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	err := env.Client.Patch(context.Background(), cm, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner("kubectl-edit"))
	if err != nil {
		t.Fatalf("editing ConfigMap %s/%s: %v", ns, name, err)
	}
}

func image(t *testing.T, ns, name string) (string, error) {
	t.Helper()
	var d appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
		return "", err
	}
	return d.Spec.Template.Spec.Containers[0].Image, nil
}

func value(t *testing.T, ns, name string) (string, error) {
	t.Helper()
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		return "", err
	}
	return cm.Data["value"], nil
}
