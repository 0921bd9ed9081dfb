package fleet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPlanWithAnotherSourcePlansTheRoot: bootstrap makes the root Stack
// read the GitRepository it is given (flotilla bootstrap --source-name,
// in its namespace), so a plan told that source (flotilla plan --source)
// plans each cluster's root with it.
func TestPlanWithAnotherSourcePlansTheRoot(t *testing.T) {
	head := with(prodRoot, map[string]string{"clusters/prod/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: web}\ndata: {a: '2'}\n"})
	o := DefaultOptions(snapshotFiles(prodRoot), snapshotFiles(head))
	o.TempDir = t.TempDir()
	o.Source = SourceRef{Namespace: "ops", Name: "platform"}
	res, err := Plan(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Clusters[0]
	if len(c.Stacks) != 1 {
		t.Fatalf("stacks = %+v, want the root", c.Stacks)
	}
	root := c.Stacks[0]
	if c.Status != ClusterChanged || root.Status != StackChanged || root.Reason != "" {
		t.Errorf("cluster %s, root %s (%s): want the root's change planned", c.Status, root.Status, root.Reason)
	}
	if root.Name != RootStack || root.Namespace != "ops" || root.Path != "clusters/prod" {
		t.Errorf("root = %s/%s of %s, want ops/%s of clusters/prod, where bootstrap puts it with that source", root.Namespace, root.Name, root.Path, RootStack)
	}
	want := []ObjectChange{{Object: ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"},
		Fields: []FieldChange{{Path: "data.a", Op: FieldChanged, Before: `"1"`, After: `"2"`}}}}
	if diff := cmp.Diff(want, root.Changed); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestPlanWithAnotherSourcePlansOnlyItsStacks(t *testing.T) {
	head := with(prodRoot, map[string]string{
		"clusters/prod/kustomization.yaml": "resources: [ns.yaml, cm.yaml, stacks.yaml]\n",
		"clusters/prod/stacks.yaml": "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: apps, namespace: ops}\n" +
			"spec: {sourceRef: {kind: GitRepository, name: platform}, path: apps, prune: true}\n---\n" +
			"apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: legacy, namespace: flotilla-system}\n" +
			"spec: {sourceRef: {kind: GitRepository, name: fleet}, path: apps, prune: true}\n",
		"apps/kustomization.yaml": "resources: [cm.yaml]\n",
		"apps/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: web}\n",
	})
	o := DefaultOptions(snapshotFiles(prodRoot), snapshotFiles(head))
	o.TempDir = t.TempDir()
	o.Source = SourceRef{Namespace: "ops", Name: "platform"}
	res, err := Plan(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]StackStatus{}
	for _, s := range res.Clusters[0].Stacks {
		got[s.Namespace+"/"+s.Name] = s.Status
	}
	want := map[string]StackStatus{"ops/cluster": StackChanged, "ops/apps": StackAdded, "flotilla-system/legacy": StackNotPlanned}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stack statuses (-want +got):\n%s", diff)
	}
}
