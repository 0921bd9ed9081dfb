package fleet

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// failingWriter refuses every write.
type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWritersReturnTheWritersError(t *testing.T) {
	res := sampleResult()
	for name, write := range map[string]func() error{
		"text":     func() error { return WriteText(failingWriter{}, res, Style{}) },
		"markdown": func() error { return WriteMarkdown(failingWriter{}, res) },
		"json":     func() error { return WriteJSON(failingWriter{}, res) },
	} {
		if err := write(); !errors.Is(err, errWrite) {
			t.Errorf("%s: err = %v, want the writer's", name, err)
		}
	}
}

// quietResult is a plan that changes nothing in its one cluster.
func quietResult() *Result {
	return &Result{
		Base: Revision{Name: "aaaaaaa", Description: "main"}, Head: Revision{Name: "working tree", Description: "uncommitted changes included"},
		Clusters: []ClusterPlan{{Name: "prod", Status: ClusterUnchanged, Stacks: []StackPlan{{Name: RootStack, Namespace: DefaultNamespace, Path: "clusters/prod",
			Status: StackUnchanged, Prune: true, Added: []ObjectRef{}, Changed: []ObjectChange{}, Removed: []ObjectRef{}}},
			Failures: []Failure{}, Warnings: []Warning{}}},
		Warnings: []Warning{},
		Renders:  RenderStats{Builds: 2, Reused: 1},
	}
}

func TestReportsOfAPlanThatChangesNothing(t *testing.T) {
	res := quietResult()
	want := map[string]string{
		"text": "Plan: aaaaaaa (main) -> working tree (uncommitted changes included)\n" +
			"0 of 1 clusters change, 1 unchanged\n\nUnchanged: prod\n",
		"markdown": "### flotilla plan: 0 of 1 clusters change, 1 unchanged\n\n" +
			"Base `aaaaaaa (main)` → head `working tree (uncommitted changes included)`.\n\nUnchanged: prod\n",
		"json": `{
  "base": {
    "name": "aaaaaaa",
    "description": "main"
  },
  "head": {
    "name": "working tree",
    "description": "uncommitted changes included"
  },
  "clusters": [
    {
      "name": "prod",
      "status": "unchanged",
      "stacks": [
        {
          "name": "cluster",
          "namespace": "flotilla-system",
          "path": "clusters/prod",
          "status": "unchanged",
          "prune": true,
          "added": [],
          "changed": [],
          "removed": []
        }
      ],
      "failures": [],
      "warnings": []
    }
  ],
  "warnings": []
}
`,
	}
	if diff := cmp.Diff(want, outputs(t, res)); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestTextFailuresCountClustersAndListEachFailure(t *testing.T) {
	res := &Result{Base: Revision{Name: "a"}, Head: Revision{Name: "b"}, Clusters: []ClusterPlan{
		{Name: "prod", Status: ClusterFailed, Failures: []Failure{
			{Cluster: "prod", Stack: "cluster", Message: "Stack apps: spec.prune: expected a boolean"},
			{Cluster: "prod", Stack: "infra", Path: "infra/kustomization.yaml", Line: 2, Message: "resource x.yaml not found"},
		}},
		{Name: "dev", Status: ClusterUnchanged},
	}}
	var b bytes.Buffer
	if err := WriteText(&b, res, Style{Failure: brackets("fail"), Heading: brackets("h")}); err != nil {
		t.Fatal(err)
	}
	want := "\n<h>1 of 2 clusters would fail to render:</h>\n" +
		"  <fail>x prod / cluster: Stack apps: spec.prune: expected a boolean</fail>\n" +
		"  <fail>x prod / infra: resource x.yaml not found</fail>\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("text ends with:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestMarkdownEscapesEveryNameFromTheRepository(t *testing.T) {
	res := &Result{
		Base: Revision{Name: "a`b"}, Head: Revision{Name: "c"},
		Clusters: []ClusterPlan{
			{Name: "team_a", Status: ClusterFailed, Failures: []Failure{{Cluster: "team_a", Stack: "apps|x", Message: "line\n<b>one</b>"}}},
			{Name: "*quiet*", Status: ClusterUnchanged},
		},
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Base `a'b` → head `c`.",
		"Unchanged: \\*quiet\\*",
		"**1 of 2 clusters would fail to render**",
		"- :x: team\\_a / apps\\|x: line &lt;b&gt;one&lt;/b&gt;",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

func TestMdText(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":      "plain text",
		"a & b":           "a &amp; b",
		"<script>":        "&lt;script&gt;",
		"| cell |":        "\\| cell \\|",
		"`code`":          "\\`code\\`",
		"*em* _em_":       "\\*em\\* \\_em\\_",
		"[link](x)":       "\\[link\\](x)",
		"two\nlines":      "two lines",
		"&lt; stays text": "&amp;lt; stays text",
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeFence(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"no backticks", "```"},
		{"one ` and two `` apart", "```"},
		{"three ``` in a row", "````"},
		{"five ````` then one `", "``````"},
		{"", "```"},
	} {
		if got := codeFence(tc.body); got != tc.want {
			t.Errorf("codeFence(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestFailureLocation(t *testing.T) {
	// Location has no caller in the reports yet: the text and markdown
	// failure lines show the message alone.
	for _, tc := range []struct {
		f    Failure
		want string
	}{
		{Failure{Path: "apps/kustomization.yaml", Line: 12}, "apps/kustomization.yaml:12"},
		{Failure{Path: "clusters/prod"}, "clusters/prod"},
		{Failure{}, ""},
	} {
		if got := tc.f.Location(); got != tc.want {
			t.Errorf("Location of %+v = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestObjectRefStringAndOrder(t *testing.T) {
	refs := []ObjectRef{
		{Group: "b.example.com", Version: "v1", Kind: "Widget", Namespace: "a", Name: "w"},
		{Version: "v1", Kind: "Namespace", Name: "zeta"},
		{Group: "a.example.com", Version: "v1", Kind: "Widget", Namespace: "a", Name: "w"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "b", Name: "a"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "a", Name: "z"},
	}
	sortRefs(refs)
	var got []string
	for _, r := range refs {
		got = append(got, r.String()+" "+r.Group)
	}
	want := []string{"ConfigMap a/z ", "ConfigMap b/a ", "Namespace zeta ", "Widget a/w a.example.com", "Widget a/w b.example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted refs (-want +got):\n%s", diff)
	}
	if a, b := refs[3].key(), refs[4].key(); a == b {
		t.Errorf("objects of two groups share the key %q", a)
	}
	v1 := ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "a", Name: "w"}
	v2 := v1
	v2.Version = "v1beta1"
	if v1.key() != v2.key() {
		t.Error("two versions of one object have two keys: a version bump would show as a removal and an addition")
	}
}

func TestClusterCountsSumItsStacks(t *testing.T) {
	c := ClusterPlan{Stacks: []StackPlan{
		{Added: make([]ObjectRef, 2), Removed: make([]ObjectRef, 1)},
		{Changed: make([]ObjectChange, 3), Removed: make([]ObjectRef, 4)},
		{},
	}}
	if got := clusterCounts(c).String(); got != "2 added, 3 changed, 5 removed" {
		t.Errorf("counts = %q", got)
	}
}

func TestPaintLineColoursObjectsNotFields(t *testing.T) {
	st := Style{Added: brackets("add"), Changed: brackets("chg"), Removed: brackets("del")}
	for line, want := range map[string]string{
		"+ ConfigMap a/b":            "<add>+ ConfigMap a/b</add>",
		"~ ConfigMap a/b":            "<chg>~ ConfigMap a/b</chg>",
		"- ConfigMap a/b":            "<del>- ConfigMap a/b</del>",
		"    spec.replicas: 1 -> 2":  "    spec.replicas: 1 -> 2",
		"      - worker_processes 1": "      - worker_processes 1",
		"+no space":                  "+no space",
	} {
		if got := paintLine(line, st); got != want {
			t.Errorf("paintLine(%q) = %q, want %q", line, got, want)
		}
	}
	if got := paintLine("+ x", Style{}); got != "+ x" {
		t.Errorf("the zero Style painted %q", got)
	}
}

func TestWarningGroupText(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    warningGroup
		want string
	}{
		{"a fleet warning", warningGroup{w: Warning{Message: "reaches 12 clusters"}}, "reaches 12 clusters"},
		{"a cluster's Stack", warningGroup{w: Warning{Stack: "apps", Message: "cannot plan"}, clusters: []string{"prod"}}, "prod / apps: cannot plan"},
		{"a cluster without a Stack", warningGroup{w: Warning{Message: "m"}, clusters: []string{"prod"}}, "prod: m"},
		{"an object of several clusters", warningGroup{w: Warning{Stack: "apps", Object: "Namespace x", Message: "will be deleted"}, clusters: []string{"a", "b"}},
			"2 clusters (a, b) / apps: Namespace x will be deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.text(); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGroupClustersLeavesUnchangedOutAndKeepsFirstOrder(t *testing.T) {
	add := StackPlan{Name: "apps", Status: StackChanged, Added: []ObjectRef{{Kind: "ConfigMap", Name: "a"}}}
	other := StackPlan{Name: "apps", Status: StackChanged, Added: []ObjectRef{{Kind: "ConfigMap", Name: "b"}}}
	quiet := StackPlan{Name: "infra", Status: StackUnchanged}
	res := &Result{Clusters: []ClusterPlan{
		{Name: "z", Status: ClusterChanged, Stacks: []StackPlan{quiet, add}},
		{Name: "unchanged", Status: ClusterUnchanged, Stacks: []StackPlan{quiet}},
		{Name: "b", Status: ClusterChanged, Stacks: []StackPlan{other}},
		// The same notable Stacks, whatever the unchanged ones: one group.
		{Name: "a", Status: ClusterChanged, Stacks: []StackPlan{add}},
	}}
	var got [][]string
	for _, g := range groupClusters(res) {
		got = append(got, g.names)
		for _, s := range g.stacks {
			if s.Name == "infra" {
				t.Errorf("group %v shows the unchanged Stack infra", g.names)
			}
		}
	}
	if diff := cmp.Diff([][]string{{"z", "a"}, {"b"}}, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}
