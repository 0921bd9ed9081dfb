package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// obj returns an object of apiVersion and kind, with fields merged in.
func obj(apiVersion, kind, namespace, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	for k, v := range fields {
		u.Object[k] = v
	}
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// inventoryOf lists objects as a Stack's status.inventory.
func inventoryOf(objs ...*unstructured.Unstructured) []any {
	ids := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		ids = append(ids, apply.MetadataOf(o))
	}
	var out []any
	for _, e := range stackspec.ToInventory(ids) {
		entry := map[string]any{"version": e.Version, "kind": e.Kind, "name": e.Name}
		if e.Group != "" {
			entry["group"] = e.Group
		}
		if e.Namespace != "" {
			entry["namespace"] = e.Namespace
		}
		out = append(out, entry)
	}
	return out
}

// readyStack is a Ready Stack owning objs.
func readyStack(namespace, name string, objs ...*unstructured.Unstructured) *unstructured.Unstructured {
	u := obj(v1alpha1.GroupVersion.String(), v1alpha1.StackKind, namespace, name, map[string]any{
		"status": map[string]any{
			"observedGeneration": int64(1),
			"conditions":         []any{map[string]any{"type": "Ready", "status": "True", "reason": "Applied", "message": "applied"}},
			"inventory":          inventoryOf(objs...),
		},
	})
	u.SetGeneration(1)
	return u
}

// fixedCluster is a cluster of fixed objects for the tree: a root Stack
// owning a namespace of objects in every state, a ClusterRole, a Stack
// that failed, a suspended Stack never reconciled and a child Stack, which
// owns an object of a namespace not in any inventory and,
// closing a cycle, the root Stack.
func fixedCluster() (root *unstructured.Unstructured, get objectGetter) {
	ns := obj("v1", "Namespace", "", "podinfo", map[string]any{"status": map[string]any{"phase": "Active"}})
	cm := obj("v1", "ConfigMap", "podinfo", "podinfo-config", nil)
	deploy := obj("apps/v1", "Deployment", "podinfo", "podinfo", map[string]any{
		"metadata": map[string]any{"generation": int64(2)},
		"status":   map[string]any{"observedGeneration": int64(1)},
	})
	job := obj("batch/v1", "Job", "podinfo", "migrate", map[string]any{
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}}},
	})
	missing := obj("v1", "Service", "podinfo", "podinfo", nil)
	role := obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "podinfo-reader", nil)
	extra := obj("v1", "ConfigMap", "shared", "extra", nil)
	root = obj(v1alpha1.GroupVersion.String(), v1alpha1.StackKind, "flotilla-system", "fleet", nil)
	child := readyStack("flotilla-system", "apps", extra, root)
	broken := readyStack("flotilla-system", "broken")
	broken.Object["status"].(map[string]any)["conditions"] = []any{map[string]any{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomization.yaml: no such file"}}
	paused := obj(v1alpha1.GroupVersion.String(), v1alpha1.StackKind, "flotilla-system", "paused", map[string]any{"spec": map[string]any{"suspend": true}})
	root = readyStack("flotilla-system", "fleet", ns, cm, deploy, job, missing, role, child, broken, paused)
	objs := map[string]*unstructured.Unstructured{}
	for _, o := range []*unstructured.Unstructured{ns, cm, deploy, job, role, extra, root, child, broken, paused} {
		objs[apply.MetadataOf(o).Key()] = o
	}
	return root, func(_ context.Context, m apply.ObjMetadata) (*unstructured.Unstructured, error) {
		if o, ok := objs[m.Key()]; ok {
			return o.DeepCopy(), nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: m.Group, Resource: strings.ToLower(m.Kind) + "s"}, m.Name)
	}
}

func TestTreeGolden(t *testing.T) {
	root, get := fixedCluster()
	tree := newTreeBuilder(get).root(t.Context(), root)
	var table bytes.Buffer
	if err := printTree(&table, tree, palette{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "tree.golden", table.String())
	for _, format := range []string{OutputJSON, OutputYAML} {
		var out bytes.Buffer
		if err := printData(&out, format, tree); err != nil {
			t.Fatal(err)
		}
		golden(t, "tree."+format+".golden", out.String())
	}
}

func TestTreeHealthOfFlotillaKindsIsTheirReadyCondition(t *testing.T) {
	ready := func(status, reason, message string) map[string]any {
		return map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": status, "reason": reason, "message": message}}}
	}
	suspended := map[string]any{"suspend": true}
	cases := []struct {
		name, kind           string
		fields               map[string]any
		wantStatus, wantText string
	}{
		{"a Ready Stack", v1alpha1.StackKind, map[string]any{"status": ready("True", "Applied", "applied")}, "Current", ""},
		{"a Stack whose build failed", v1alpha1.StackKind, map[string]any{"status": ready("False", "BuildFailed", "no kustomization")}, "Failed", "no kustomization"},
		{"a Stack failed without a message", v1alpha1.StackKind, map[string]any{"status": ready("False", "BuildFailed", "")}, "Failed", "BuildFailed"},
		{"a Stack being reconciled", v1alpha1.StackKind, map[string]any{"status": ready("Unknown", "Progressing", "applying")}, "InProgress", "applying"},
		{"a Stack with no status", v1alpha1.StackKind, nil, "InProgress", "not reconciled yet"},
		{"a suspended Stack with no status", v1alpha1.StackKind, map[string]any{"spec": suspended}, "Suspended", "suspended before it was reconciled"},
		{"a suspended Ready Stack", v1alpha1.StackKind, map[string]any{"spec": suspended, "status": ready("True", "Applied", "")}, "Current", "suspended"},
		{"a suspended failed Stack", v1alpha1.StackKind, map[string]any{"spec": suspended, "status": ready("False", "BuildFailed", "broken")}, "Failed", "broken"},
		{"a GitRepository that cannot fetch", v1alpha1.GitRepositoryKind, map[string]any{"status": ready("False", "FetchFailed", "auth")}, "Failed", "auth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := obj(v1alpha1.GroupVersion.String(), tc.kind, "flotilla-system", "x", tc.fields)
			if got, text := health(u, nil); got != tc.wantStatus || text != tc.wantText {
				t.Errorf("health = %q, %q; want %q, %q", got, text, tc.wantStatus, tc.wantText)
			}
		})
	}
}

func TestTreeColoursOnlyOnATerminal(t *testing.T) {
	root, get := fixedCluster()
	tree := newTreeBuilder(get).root(t.Context(), root)
	var plain, coloured bytes.Buffer
	_ = printTree(&plain, tree, palette{})
	_ = printTree(&coloured, tree, palette{on: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("the tree off a terminal has escape codes")
	}
	for _, want := range []string{"\x1b[32mCurrent\x1b[0m", "\x1b[33mInProgress\x1b[0m", "\x1b[31mFailed\x1b[0m", "\x1b[31mNotFound\x1b[0m"} {
		if !strings.Contains(coloured.String(), want) {
			t.Errorf("the tree on a terminal lacks %q", want)
		}
	}
}

// TestTreeStackAgainstTheControlPlane reads real objects: one exists, one
// of the inventory does not.
func TestTreeStackAgainstTheControlPlane(t *testing.T) {
	createNamespaces(t, "cli-tree", "cli-tree-app")
	ctx := t.Context()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cli-tree-app", Name: "present"}}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	st := newStack("cli-tree", "apps", ".", "cli-tree-app")
	if err := env.Client.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	st.Status.Inventory = []v1alpha1.InventoryEntry{
		{Version: "v1", Kind: "ConfigMap", Namespace: "cli-tree-app", Name: "present"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "cli-tree-app", Name: "missing"},
	}
	if err := env.Client.Status().Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	o := TreeOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: "cli-tree"}, Stack: "apps", Output: OutputTable}
	var out bytes.Buffer
	if err := o.Run(ctx, streams(&out)); err != nil {
		t.Fatal(err)
	}
	got := rows(out.String())[1:]
	want := [][]string{
		{"└──", "Namespace/cli-tree-app", noteNotInInventoryFields[0], noteNotInInventoryFields[1], noteNotInInventoryFields[2], noteNotInInventoryFields[3]},
		{"├──", "ConfigMap/missing", "NotFound"},
		{"└──", "ConfigMap/present", "Current"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree (-want +got):\n%s\n%s", diff, out.String())
	}
}

var noteNotInInventoryFields = strings.Fields(noteNotInInventory)

func TestTreeRefusesBadArguments(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no name", []string{"tree", "stack"}, "accepts 1 arg(s), received 0"},
		{"unknown output", []string{"tree", "stack", "apps", "-o", "wide"}, `unknown output format "wide"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
