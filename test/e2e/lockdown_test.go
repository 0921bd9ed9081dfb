package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// A tenant tries each escape from its namespace against an agent started
// with --no-cross-namespace-refs and --default-service-account: another
// namespace's source, a dependency in another namespace, a cluster-scoped
// object under the agent's own identity, an Alert on another namespace's
// events, a file:// URL into the agent's disk. Each is refused with a
// message naming the field or the identity; what the tenant may do works.
func TestTenantLockdown(t *testing.T) {
	platform, tenant := newNamespace(t), newNamespace(t)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root)
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	clusterRole := "e2e-escape-" + randomHex(t)[:8]
	wd.WriteFile(t, "tenant/cm.yaml", fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tenant-config\n  namespace: %s\ndata:\n  k: v\n", tenant))
	wd.WriteFile(t, "escape/role.yaml", fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: %s\nrules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n", clusterRole))
	wd.Commit(t, "tenant and escape")
	wd.Push(t, "main")

	startAgent(t, "--no-cross-namespace-refs", "--default-service-account", "tenant-deployer", "--allow-file-urls=false")

	for _, ns := range []string{platform, tenant} {
		mustCreate(t, &v1alpha1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
			Spec:       v1alpha1.GitRepositorySpec{URL: srv.RepoURL("fleet"), Interval: metav1.Duration{Duration: time.Minute}},
		})
	}
	stack := func(name, path string, mutate func(*v1alpha1.StackSpec)) client.ObjectKey {
		s := &v1alpha1.Stack{
			ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name},
			Spec: v1alpha1.StackSpec{
				SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
				Path:      path, Interval: metav1.Duration{Duration: time.Minute}, Prune: true,
			},
		}
		if mutate != nil {
			mutate(&s.Spec)
		}
		mustCreate(t, s)
		return client.ObjectKeyFromObject(s)
	}

	// 1. Another namespace's source, and a dependency in another namespace.
	foreign := stack("foreign-source", "tenant", func(s *v1alpha1.StackSpec) { s.SourceRef.Namespace = platform })
	waitStackCondition(t, foreign, v1alpha1.StalledCondition, v1alpha1.ReasonAccessDenied, "spec.sourceRef is in namespace "+platform)
	dependent := stack("foreign-dependency", "tenant", func(s *v1alpha1.StackSpec) {
		s.DependsOn = []v1alpha1.DependencyReference{{Name: "infra", Namespace: platform}}
	})
	waitStackCondition(t, dependent, v1alpha1.StalledCondition, v1alpha1.ReasonAccessDenied, "spec.dependsOn[0] (infra) is in namespace "+platform)

	// 2. Without serviceAccountName the Stack applies as the default
	// service account, which has no rights yet: a ClusterRole is refused
	// and the message names the identity.
	identity := "system:serviceaccount:" + tenant + ":tenant-deployer"
	escape := stack("escape", "escape", nil)
	waitStackCondition(t, escape, v1alpha1.ReadyCondition, "", identity)
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: clusterRole}, &rbacv1.ClusterRole{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the tenant's ClusterRole %s was created (err %v)", clusterRole, err)
	}

	// 3. With rights on ConfigMaps in its namespace, the tenant's own Stack applies.
	mustCreate(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "tenant-deployer"}})
	mustCreate(t, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
	})
	mustCreate(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deployer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: tenant, Name: "tenant-deployer"}},
	})
	own := stack("own", "tenant", nil)
	waitStackCondition(t, own, v1alpha1.ReadyCondition, v1alpha1.ReasonSucceeded, "")
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: "tenant-config"}, &cm); err != nil {
		t.Errorf("the tenant's own ConfigMap: %v", err)
	}

	// 4. An Alert on another namespace's events.
	mustCreate(t, &v1alpha1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "sink"},
		Spec:       v1alpha1.ProviderSpec{Type: v1alpha1.ProviderGeneric, Address: "http://127.0.0.1:9/hook"},
	})
	alert := &v1alpha1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "spy"},
		Spec: v1alpha1.AlertSpec{
			ProviderRef:  v1alpha1.LocalObjectReference{Name: "sink"},
			EventSources: []v1alpha1.EventSourceReference{{Kind: v1alpha1.StackKind, Name: "*", Namespace: platform}},
		},
	}
	mustCreate(t, alert)
	eventually(t, "the Alert on another namespace to be Stalled AccessDenied", func() (bool, string) {
		var a v1alpha1.Alert
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(alert), &a); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.StalledCondition)
		return c != nil && c.Reason == v1alpha1.ReasonAccessDenied && strings.Contains(c.Message, "spec.eventSources[0]"), fmt.Sprintf("%+v", a.Status.Conditions)
	})

	// 5. A file:// URL into the agent's own disk.
	mustCreate(t, &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "disk"},
		Spec:       v1alpha1.GitRepositorySpec{URL: root.FileURL("fleet"), Interval: metav1.Duration{Duration: time.Minute}},
	})
	_, ready := waitForReady(t, client.ObjectKey{Namespace: tenant, Name: "disk"}, metav1.ConditionFalse, v1alpha1.ReasonAccessDenied)
	if !strings.Contains(ready.Message, "--allow-file-urls") {
		t.Errorf("the file:// refusal must say how to allow it: %q", ready.Message)
	}
}

// waitStackCondition waits for a Stack condition with reason (any when
// empty) whose message contains text.
func waitStackCondition(t *testing.T, key client.ObjectKey, condType, reason, text string) {
	t.Helper()
	eventually(t, fmt.Sprintf("Stack %s %s %s %q", key, condType, reason, text), func() (bool, string) {
		var s v1alpha1.Stack
		if err := env.Client.Get(context.Background(), key, &s); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(s.Status.Conditions, condType)
		if c == nil {
			return false, fmt.Sprintf("%+v", s.Status.Conditions)
		}
		ok := (reason == "" || c.Reason == reason) && strings.Contains(c.Message, text)
		if condType == v1alpha1.ReadyCondition && reason == "" {
			ok = ok && c.Status == metav1.ConditionFalse
		}
		return ok, fmt.Sprintf("%+v", s.Status.Conditions)
	})
}
