package fleet

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// planSnapshots plans base against head, both given as files.
func planSnapshots(t *testing.T, base, head map[string]string) *Result {
	t.Helper()
	o := DefaultOptions(snapshotFiles(base), snapshotFiles(head))
	o.TempDir = t.TempDir()
	res, err := Plan(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// prodRoot is clusters/prod applying a Namespace and a ConfigMap.
var prodRoot = map[string]string{
	"clusters/prod/kustomization.yaml": "resources: [ns.yaml, cm.yaml]\n",
	"clusters/prod/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n",
	"clusters/prod/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: web}\ndata: {a: '1'}\n",
}

func TestPlanOfAClusterRemovedAtHead(t *testing.T) {
	res := planSnapshots(t, prodRoot, map[string]string{"README.md": "no clusters\n"})
	if len(res.Clusters) != 1 || res.Clusters[0].Status != ClusterChanged {
		t.Fatalf("clusters = %+v, want prod changed", res.Clusters)
	}
	c := res.Clusters[0]
	want := []StackPlan{{Name: RootStack, Namespace: DefaultNamespace, Path: "clusters/prod", Status: StackRemoved, Prune: true,
		Added: []ObjectRef{}, Changed: []ObjectChange{},
		Removed: []ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}, {Version: "v1", Kind: "Namespace", Name: "web"}}}}
	if diff := cmp.Diff(want, c.Stacks); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
	var kinds []WarningKind
	for _, w := range c.Warnings {
		kinds = append(kinds, w.Kind)
	}
	if diff := cmp.Diff([]WarningKind{WarnPrune, WarnNamespace}, kinds); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestPlanOfAClusterAddedAtHead(t *testing.T) {
	res := planSnapshots(t, map[string]string{"README.md": "no clusters\n"}, prodRoot)
	c := res.Clusters[0]
	if c.Status != ClusterChanged || len(c.Stacks) != 1 || c.Stacks[0].Status != StackAdded || len(c.Stacks[0].Added) != 2 {
		t.Errorf("cluster = %+v, want its root added with two objects", c)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("a new cluster is warned about: %+v", c.Warnings)
	}
}

func TestPlanOfARootWithAStackThatDoesNotDecode(t *testing.T) {
	head := with(prodRoot, map[string]string{
		"clusters/prod/kustomization.yaml": "resources: [ns.yaml, cm.yaml, apps.yaml]\n",
		"clusters/prod/apps.yaml":          "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: apps, namespace: flotilla-system}\nspec: {path: apps, prune: 'yes'}\n",
	})
	c := planSnapshots(t, prodRoot, head).Clusters[0]
	if c.Status != ClusterFailed || len(c.Failures) != 1 {
		t.Fatalf("cluster = %+v, want one failure", c)
	}
	f := c.Failures[0]
	if f.Cluster != "prod" || f.Stack != RootStack || f.Path != "clusters/prod" ||
		!strings.HasPrefix(f.Message, "decoding Stack apps: ") || !strings.HasSuffix(f.Message, "(fix the Stack's fields)") {
		t.Errorf("failure = %+v, want one naming the Stack apps of the root", f)
	}
	if len(c.Stacks) != 1 || c.Stacks[0].Name != RootStack {
		t.Errorf("stacks = %+v: the Stacks of a root that does not decode cannot be planned", c.Stacks)
	}
}

func TestPlanOfARootThatBreaks(t *testing.T) {
	head := with(prodRoot, map[string]string{"clusters/prod/kustomization.yaml": "resources: [ns.yaml, cm.yaml, missing.yaml]\n"})
	res := planSnapshots(t, prodRoot, head)
	c := res.Clusters[0]
	if c.Status != ClusterFailed || len(c.Stacks) != 1 || c.Stacks[0].Status != StackFailed {
		t.Fatalf("cluster = %+v, want its root failed", c)
	}
	if f := c.Failures[0]; f.Stack != RootStack || !strings.Contains(f.Message, "missing.yaml") {
		t.Errorf("failure = %+v, want the root's naming missing.yaml", f)
	}
	if got := headline(res); got != "1 of 1 clusters change (1 would fail to render), 0 unchanged" {
		t.Errorf("headline = %q", got)
	}
}

func TestPlanOfARootThatIsFixed(t *testing.T) {
	base := with(prodRoot, map[string]string{"clusters/prod/kustomization.yaml": "resources: [ns.yaml, cm.yaml, missing.yaml]\n"})
	c := planSnapshots(t, base, prodRoot).Clusters[0]
	if c.Status != ClusterChanged || len(c.Failures) != 0 {
		t.Fatalf("cluster = %+v, want it changed, without failures", c)
	}
	if s := c.Stacks[0]; s.Status != StackChanged || len(s.Added) != 2 {
		t.Errorf("root = %+v, want every object added", s)
	}
	if len(c.Warnings) != 1 || c.Warnings[0].Kind != WarnBaseFailure || !strings.Contains(c.Warnings[0].Message, "missing.yaml") {
		t.Errorf("warnings = %+v, want one saying the base does not render", c.Warnings)
	}
}

func TestPlanCountsRendersOfUnchangedClusters(t *testing.T) {
	files := with(prodRoot, map[string]string{})
	for p, c := range prodRoot {
		files[strings.Replace(p, "clusters/prod", "clusters/dev", 1)] = c
	}
	res := planSnapshots(t, files, files)
	if res.Changed() {
		t.Errorf("a plan of one revision against itself changes: %+v", res.Clusters)
	}
	// Each root is read at two revisions of the same inputs: two builds
	// (dev and prod differ by path), two answers from the cache.
	if got := res.Renders; got != (RenderStats{Builds: 2, Reused: 2}) {
		t.Errorf("renders = %+v", got)
	}
}
