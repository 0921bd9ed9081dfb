package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/bootstrap"
	"github.com/flotilla-io/flotilla/internal/install"
)

// tenantPath holds a tenant's objects in the fleet repository.
const tenantPath = "tenants/team-a"

// testLeastPrivilege takes cluster-admin away from the agent (through Git:
// the root Stack prunes its own binding), then gives a tenant a Stack whose
// ServiceAccount may manage ConfigMaps in its namespace only. A hand edit
// of that Stack's ConfigMap is reverted: the drift watch runs as the
// Stack's ServiceAccount, which the agent's least-privilege ClusterRole
// could not do for it. It runs last: without cluster-admin the root Stack
// can no longer apply the agent's CRDs and ClusterRoles.
func testLeastPrivilege(t *testing.T, f *fleet) {
	ctx := context.Background()
	dropClusterAdmin(t, f)

	ns := newNamespace(t, "tenant")
	grantConfigMaps(t, ns, "deployer")
	createSource(t, f, ns)
	f.work.WriteFile(t, tenantPath+"/settings.yaml", configMapYAML("settings", "", "color", "blue"))
	f.work.WriteFile(t, tenantPath+"/kustomization.yaml", kustomization("settings.yaml"))
	rev := gitRevision(f.push(t, "team-a: settings"))
	st := newStack(ns, "team-a", tenantPath, time.Minute, false)
	st.Spec.ServiceAccountName = "deployer"
	mustCreate(t, st)
	key := client.ObjectKeyFromObject(st)
	waitStack(t, key, rev, 2*time.Minute)

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"data":{"color":"red"}}`))
	if err := cluster.Client.Patch(ctx, cm, patch, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the hand edit reverted by the least-privilege agent", func() (bool, string) {
		var got corev1.ConfigMap
		mustGet(t, client.ObjectKeyFromObject(cm), &got)
		return got.Data["color"] == "blue", fmt.Sprintf("color=%q", got.Data["color"])
	})
	eventually(t, 30*time.Second, "the drift recorded on the Stack", func() (bool, string) {
		var got = st.DeepCopy()
		mustGet(t, key, got)
		for _, d := range got.Status.Drift {
			if d.Manager == "kubectl-edit" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("drift %+v, conditions %+v", got.Status.Drift, got.Status.Conditions)
	})
}

// dropClusterAdmin removes the agent's cluster-admin binding from the
// manifests bootstrap committed and waits until the agent pruned it.
func dropClusterAdmin(t *testing.T, f *fleet) {
	t.Helper()
	name := install.ClusterAdminBindingName(install.DefaultNamespace)
	file := filepath.Join(f.work.Dir(), clusterPath, bootstrap.ComponentsFile)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, doc := range strings.Split(string(data), "\n---\n") {
		if !strings.Contains(doc, "name: "+name+"\n") {
			kept = append(kept, doc)
		}
	}
	if len(kept) == len(strings.Split(string(data), "\n---\n")) {
		t.Fatalf("%s has no ClusterRoleBinding %s", bootstrap.ComponentsFile, name)
	}
	f.work.WriteFile(t, clusterPath+"/"+bootstrap.ComponentsFile, strings.Join(kept, "\n---\n"))
	f.push(t, "agent: least privilege")
	eventually(t, 2*time.Minute, "the agent's cluster-admin binding pruned", func() (bool, string) {
		err := cluster.Client.Get(context.Background(), client.ObjectKey{Name: name}, &rbacv1.ClusterRoleBinding{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// grantConfigMaps creates a ServiceAccount in ns that may manage
// ConfigMaps there, and nothing else.
func grantConfigMaps(t *testing.T, ns, sa string) {
	t.Helper()
	mustCreate(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}})
	mustCreate(t, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		}},
	})
	mustCreate(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
	})
}
