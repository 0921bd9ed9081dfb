package fleet

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestCompareObjectsSortsAddedRemovedAndChanged(t *testing.T) {
	before := []*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z, namespace: a}\ndata: {k: '1'}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: a}\n"),
		obj(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec: {replicas: 1}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: a}\n"),
	}
	after := []*unstructured.Unstructured{
		obj(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec: {replicas: 2}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z, namespace: a}\ndata: {k: '2'}\n"),
		obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: new, namespace: a}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: a}\n"),
		// A new API version of the same object is not a replacement.
		obj(t, "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: same, namespace: a}\n"),
	}
	c := compareObjects(before, after, identity)
	names := func(refs []ObjectRef) (out []string) {
		for _, r := range refs {
			out = append(out, r.String())
		}
		return out
	}
	if diff := cmp.Diff([]string{"ConfigMap a/new", "Service a/new"}, names(c.added)); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ConfigMap a/gone"}, names(c.removed)); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	var changed []string
	for _, ch := range c.changed {
		changed = append(changed, ch.Object.String())
	}
	if diff := cmp.Diff([]string{"ConfigMap a/same", "ConfigMap a/z", "Deployment a/web"}, changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
}

func TestCompareObjectsOfNothingAreEmptyNotNil(t *testing.T) {
	c := compareObjects(nil, nil, identity)
	if c.added == nil || c.removed == nil || c.changed == nil {
		t.Errorf("comparison = %+v: empty lists must be [] in JSON, not null", c)
	}
}

func TestDiffObjectMasksValuesAndHidesSecretData(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "tok-123", "***") }
	got := diffObject(
		obj(t, "kind: ConfigMap\ndata: {url: 'https://x?token=tok-123', conf: \"a\\ntok-123\\n\"}\n"),
		obj(t, "kind: ConfigMap\ndata: {url: 'https://y?token=tok-123', conf: \"b\\ntok-123\\n\"}\n"),
		mask)
	want := []FieldChange{
		{Path: "data.conf", Op: FieldChanged, Lines: []string{"- a", "+ b"}},
		{Path: "data.url", Op: FieldChanged, Before: `"https://x?token=***"`, After: `"https://y?token=***"`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConfigMap fields (-want +got):\n%s", diff)
	}

	got = diffObject(
		obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {A: YQ==, B: Yg==}\n"),
		obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {A: eA==, C: Yw==}\n"),
		identity)
	for _, f := range got {
		if !f.Hidden || f.Before != "" || f.After != "" || len(f.Lines) != 0 {
			t.Errorf("a Secret's field shows a value: %+v", f)
		}
	}
	var ops []string
	for _, f := range got {
		ops = append(ops, f.Path+" "+string(f.Op))
	}
	if diff := cmp.Diff([]string{"data.A changed", "data.B removed", "data.C added"}, ops); diff != "" {
		t.Errorf("Secret changes (-want +got):\n%s", diff)
	}
}

func TestDiffListsFallsBackToIndexes(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		want                []string
	}{
		{"duplicate names are matched by index", "l: [{name: a, v: 1}, {name: a, v: 2}]", "l: [{name: a, v: 1}, {name: a, v: 3}]", []string{"l[1].v"}},
		{"an item without a name makes the list unnamed", "l: [{name: a, v: 1}, {v: 2}]", "l: [{name: a, v: 1}, {v: 3}]", []string{"l[1].v"}},
		{"a new named item shows by name", "l: [{name: a}]", "l: [{name: a}, {name: b}]", []string{"l[name=b]"}},
		{"a removed named item shows by name", "l: [{name: a}, {name: b}]", "l: [{name: b}]", []string{"l[name=a]"}},
		{"scalars by index", "l: [1, 2]", "l: [1]", []string{"l[1]"}},
		{"a list that becomes a map", "l: [1]", "l: {a: 1}", []string{"l"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range diffObject(obj(t, tc.before), obj(t, tc.after), identity) {
				got = append(got, f.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJoinKey(t *testing.T) {
	for _, tc := range []struct{ p, k, want string }{
		{"", "spec", "spec"},
		{"spec", "replicas", "spec.replicas"},
		{"metadata.labels", "app.kubernetes.io/name", `metadata.labels["app.kubernetes.io/name"]`},
		{"", "a b", `["a b"]`},
		{"data", "with_underscore-and-dash", "data.with_underscore-and-dash"},
	} {
		if got := joinKey(tc.p, tc.k); got != tc.want {
			t.Errorf("joinKey(%q, %q) = %q, want %q", tc.p, tc.k, got, tc.want)
		}
	}
}

func TestEqualValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b any
		want bool
	}{
		{"int64 and float64 of one number", int64(3), float64(3), true},
		{"different numbers", int64(3), float64(3.5), false},
		{"a number and its string", int64(3), "3", false},
		{"true and the string true", true, "true", false},
		{"equal strings", "a", "a", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := equalValues(tc.a, tc.b); got != tc.want {
				t.Errorf("equalValues(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestLineDiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		want       []string
	}{
		{"one line replaced", "a\nb\nc", "a\nB\nc", []string{"- b", "+ B"}},
		{"a line inserted", "a\nc", "a\nb\nc", []string{"+ b"}},
		{"a line removed at the end", "a\nb\n", "a\n", []string{"- b"}},
		{"everything new", "x", "y", []string{"- x", "+ y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, lineDiff(tc.a, tc.b)); diff != "" {
				t.Errorf("lineDiff (-want +got):\n%s", diff)
			}
		})
	}
	long := strings.Repeat("x\n", maxLineDiff+1)
	if got := lineDiff(long, "x"); got != nil {
		t.Errorf("a text over %d lines got a line diff of %d lines, want none", maxLineDiff, len(got))
	}
	if f := scalarChange("data.big", long, "x\n"); f.Lines != nil || f.Before == "" {
		t.Errorf("a too-long text is not shown as before/after: %+v", f.Path)
	}
}

func TestJSONValueOfAnUnmarshalableValue(t *testing.T) {
	if got := jsonValue(map[string]any{"a": int64(1)}); got != `{"a":1}` {
		t.Errorf("jsonValue = %q", got)
	}
	if got := jsonValue(func() {}); got == "" {
		t.Error("jsonValue of a func is empty, want fmt's rendering")
	}
}

func TestUnderPath(t *testing.T) {
	for _, tc := range []struct {
		field, p string
		want     bool
	}{
		{"spec.selector", "spec.selector", true},
		{"spec.selector.matchLabels.app", "spec.selector", true},
		{"spec.volumeClaimTemplates[0].spec", "spec.volumeClaimTemplates", true},
		{"spec.selectorX", "spec.selector", false},
		{"spec", "spec.selector", false},
		{"data", "data", true},
		{"datax.a", "data", false},
	} {
		if got := underPath(tc.field, tc.p); got != tc.want {
			t.Errorf("underPath(%q, %q) = %v, want %v", tc.field, tc.p, got, tc.want)
		}
	}
}

func TestImmutableSecretTypeWhenMarked(t *testing.T) {
	ch := ObjectChange{Object: ObjectRef{Kind: "Secret"}, Fields: []FieldChange{{Path: "type"}, {Path: "metadata.labels.a"}}}
	if got := immutableChanges(obj(t, "kind: Secret\nimmutable: true"), ch); !cmp.Equal(got, []string{"type"}) {
		t.Errorf("immutable changes = %v, want [type]", got)
	}
	if got := immutableChanges(obj(t, "kind: Secret\nimmutable: false"), ch); got != nil {
		t.Errorf("an unmarked Secret has immutable changes %v", got)
	}
}

func TestStackWarnerRemoved(t *testing.T) {
	refs := []ObjectRef{
		{Version: "v1", Kind: "Namespace", Name: "team-a"},
		{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "settings"},
		{Group: "example.com", Version: "v1", Kind: "Namespace", Name: "look-alike"},
	}
	for _, tc := range []struct {
		name      string
		prune     bool
		maxPrune  int
		inventory int
		want      []string
	}{
		{"prune: each removal by its risk", true, 0, 0, []string{
			"namespace Namespace team-a",
			"crd CustomResourceDefinition widgets.example.com",
			"prune ConfigMap team-a/settings",
			"prune Namespace look-alike",
		}},
		{"no prune: everything is left behind", false, 0, 0, []string{
			"orphan Namespace team-a", "orphan CustomResourceDefinition widgets.example.com",
			"orphan ConfigMap team-a/settings", "orphan Namespace look-alike",
		}},
		{"the cap holds four of ten back in one warning", true, 30, 10, []string{"prune-cap "}},
		{"the cap allows four of ten at fifty percent", true, 50, 10, []string{
			"namespace Namespace team-a", "crd CustomResourceDefinition widgets.example.com",
			"prune ConfigMap team-a/settings", "prune Namespace look-alike",
		}},
		{"no cap without prune", false, 10, 10, []string{
			"orphan Namespace team-a", "orphan CustomResourceDefinition widgets.example.com",
			"orphan ConfigMap team-a/settings", "orphan Namespace look-alike",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Prune: tc.prune, MaxPrunePercent: tc.maxPrune}}
			w := &stackWarner{cluster: "prod", stack: "apps"}
			w.removed(st, refs, tc.inventory)
			var got []string
			for _, x := range w.warnings {
				if x.Cluster != "prod" || x.Stack != "apps" {
					t.Errorf("warning %+v lacks its cluster and Stack", x)
				}
				got = append(got, string(x.Kind)+" "+x.Object)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if tc.want[0] == "prune-cap " && !strings.Contains(w.warnings[0].Message, "refusing to prune 4 of the 10 objects") {
				t.Errorf("cap warning = %q", w.warnings[0].Message)
			}
		})
	}
}

func TestStackWarnerImmutable(t *testing.T) {
	ref := ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "a", Name: "web"}
	for _, tc := range []struct {
		name  string
		force bool
		want  string
	}{
		{"without force the apply fails", false, "immutable field changed (spec.selector.matchLabels.app, spec.selector.matchLabels.tier): the apply will fail; set force: true"},
		{"with force the object is recreated", true, "immutable field changed (spec.selector.matchLabels.app, spec.selector.matchLabels.tier): the Stack has force: true, so the object will be deleted and recreated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &stackWarner{cluster: "c", stack: "s"}
			w.immutable(&v1alpha1.Stack{Spec: v1alpha1.StackSpec{Force: tc.force}}, ref, []string{"spec.selector.matchLabels.app", "spec.selector.matchLabels.tier"})
			if len(w.warnings) != 1 || w.warnings[0].Kind != WarnImmutable || w.warnings[0].Object != "Deployment a/web" {
				t.Fatalf("warnings = %+v", w.warnings)
			}
			if !strings.HasPrefix(w.warnings[0].Message, tc.want) {
				t.Errorf("message = %q, want it to start with %q", w.warnings[0].Message, tc.want)
			}
		})
	}
}

func sampleResult() *Result {
	return &Result{
		Warnings: []Warning{{Kind: WarnWide, Message: "reaches 3 clusters"}},
		Clusters: []ClusterPlan{
			{Name: "prod-b", Status: ClusterChanged,
				Stacks:   []StackPlan{{Name: "apps", Path: "apps", Status: StackChanged, Added: []ObjectRef{{Kind: "ConfigMap", Name: "x"}}}},
				Warnings: []Warning{{Kind: WarnPrune, Cluster: "prod-b", Stack: "apps", Object: "ConfigMap a/b", Message: "will be deleted (pruned)"}}},
			{Name: "dev", Status: ClusterUnchanged},
			{Name: "prod-a", Status: ClusterChanged,
				Stacks:   []StackPlan{{Name: "apps", Path: "apps", Status: StackChanged, Added: []ObjectRef{{Kind: "ConfigMap", Name: "x"}}}},
				Warnings: []Warning{{Kind: WarnPrune, Cluster: "prod-a", Stack: "apps", Object: "ConfigMap a/b", Message: "will be deleted (pruned)"}}},
			{Name: "broken", Status: ClusterFailed,
				Failures: []Failure{{Cluster: "broken", Stack: "cluster", Path: "clusters/broken/kustomization.yaml", Line: 3, Message: "bad"}}},
			{Name: "alpha", Status: ClusterUnchanged},
		},
	}
}

func TestResultSummaries(t *testing.T) {
	res := sampleResult()
	if !res.Changed() {
		t.Error("Changed() = false with changed clusters")
	}
	changed, unchanged, failed := res.Count()
	if changed != 2 || unchanged != 2 || failed != 1 {
		t.Errorf("Count = %d, %d, %d; want 2, 2, 1", changed, unchanged, failed)
	}
	if got := res.Failures(); len(got) != 1 || got[0].Location() != "clusters/broken/kustomization.yaml:3" {
		t.Errorf("Failures = %+v", got)
	}
	if got := len(res.AllWarnings()); got != 3 {
		t.Errorf("AllWarnings has %d, want the fleet's one and the clusters' two", got)
	}
	if got := headline(res); got != "3 of 5 clusters change (1 would fail to render), 2 unchanged" {
		t.Errorf("headline = %q", got)
	}
	if diff := cmp.Diff([]string{"alpha", "dev"}, unchangedNames(res)); diff != "" {
		t.Errorf("unchanged names (-want +got):\n%s", diff)
	}
	quiet := &Result{Clusters: []ClusterPlan{{Name: "a", Status: ClusterUnchanged}}}
	if quiet.Changed() || headline(quiet) != "0 of 1 clusters change, 1 unchanged" {
		t.Errorf("an unchanged fleet: Changed %v, headline %q", quiet.Changed(), headline(quiet))
	}
}

func TestGroupClustersAndWarningsMergeTheSameDetails(t *testing.T) {
	res := sampleResult()
	groups := groupClusters(res)
	var got [][]string
	for _, g := range groups {
		got = append(got, g.names)
	}
	if diff := cmp.Diff([][]string{{"prod-b", "prod-a"}, {"broken"}}, got); diff != "" {
		t.Errorf("cluster groups (-want +got):\n%s", diff)
	}
	if groups[0].counts.String() != "1 added, 0 changed, 0 removed" {
		t.Errorf("counts = %s", groups[0].counts)
	}
	var texts []string
	for _, g := range groupWarnings(res) {
		texts = append(texts, g.text())
	}
	want := []string{
		"reaches 3 clusters",
		"2 clusters (prod-b, prod-a) / apps: ConfigMap a/b will be deleted (pruned)",
	}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("warning lines (-want +got):\n%s", diff)
	}
}

func TestFieldLines(t *testing.T) {
	long := strings.Repeat("é", maxValueWidth+10)
	for _, tc := range []struct {
		name string
		f    FieldChange
		want []string
	}{
		{"hidden", FieldChange{Path: "data.token", Op: FieldChanged, Hidden: true, Before: "x"}, []string{"data.token: changed (value hidden)"}},
		{"lines", FieldChange{Path: "data.conf", Op: FieldChanged, Lines: []string{"- a", "+ b"}}, []string{"data.conf: changed", "  - a", "  + b"}},
		{"added", FieldChange{Path: "spec.x", Op: FieldAdded, After: "1"}, []string{"spec.x: added 1"}},
		{"removed", FieldChange{Path: "spec.x", Op: FieldRemoved, Before: "1"}, []string{"spec.x: removed (was 1)"}},
		{"changed", FieldChange{Path: "spec.x", Op: FieldChanged, Before: "1", After: "2"}, []string{"spec.x: 1 -> 2"}},
		{"a long value is clipped by runes", FieldChange{Path: "a", Op: FieldAdded, After: long},
			[]string{"a: added " + strings.Repeat("é", maxValueWidth-3) + "..."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, fieldLines(tc.f)); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
	if s := strings.Repeat("a", maxValueWidth); clip(s) != s {
		t.Error("a value of exactly the width was clipped")
	}
}

func TestStackTitleAndRevisionText(t *testing.T) {
	for status, want := range map[StackStatus]string{
		StackChanged:    "apps (apps)",
		StackAdded:      "apps (apps): new Stack",
		StackRemoved:    "apps (apps): Stack removed",
		StackFailed:     "apps (apps): does not render",
		StackNotPlanned: "apps (apps): not planned, why",
		StackCannotPlan: "apps (apps): cannot plan, why",
	} {
		if got := stackTitle(StackPlan{Name: "apps", Path: "apps", Status: status, Reason: "why"}); got != want {
			t.Errorf("stackTitle(%s) = %q, want %q", status, got, want)
		}
	}
	for _, tc := range []struct {
		r    Revision
		want string
	}{
		{Revision{Name: "abc1234"}, "abc1234"},
		{Revision{Name: "working tree", Description: "working tree"}, "working tree"},
		{Revision{Name: "abc1234", Description: "merge-base of HEAD and main"}, "abc1234 (merge-base of HEAD and main)"},
	} {
		if got := revisionText(tc.r); got != tc.want {
			t.Errorf("revisionText(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
	if got := clusterList([]string{"a"}); got != "a" {
		t.Errorf("clusterList of one = %q", got)
	}
}

func TestNotable(t *testing.T) {
	if notable(StackPlan{Status: StackUnchanged}) {
		t.Error("an unchanged Stack without changes is notable")
	}
	if !notable(StackPlan{Status: StackNotPlanned}) {
		t.Error("a Stack that was not planned is not notable: the reviewer would not learn it")
	}
	if !notable(StackPlan{Status: StackUnchanged, Removed: []ObjectRef{{Kind: "ConfigMap"}}}) {
		t.Error("a Stack with a removal is not notable")
	}
}

func TestReadsSource(t *testing.T) {
	src := SourceRef{Namespace: DefaultNamespace, Name: DefaultSource}
	if src.String() != "flotilla-system/fleet" {
		t.Errorf("SourceRef.String = %q", src.String())
	}
	for _, tc := range []struct {
		name  string
		ns    string
		ref   v1alpha1.SourceReference
		reads bool
	}{
		{"the fleet repository in the Stack's namespace", DefaultNamespace, v1alpha1.SourceReference{Kind: "GitRepository", Name: "fleet"}, true},
		{"named with its namespace", "team-a", v1alpha1.SourceReference{Kind: "GitRepository", Name: "fleet", Namespace: DefaultNamespace}, true},
		{"another namespace's fleet", "team-a", v1alpha1.SourceReference{Kind: "GitRepository", Name: "fleet"}, false},
		{"another repository", DefaultNamespace, v1alpha1.SourceReference{Kind: "GitRepository", Name: "charts"}, false},
		{"another kind", DefaultNamespace, v1alpha1.SourceReference{Kind: "OCIRepository", Name: "fleet"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1alpha1.Stack{}
			st.Namespace, st.Spec.SourceRef = tc.ns, tc.ref
			if got := readsSource(st, src); got != tc.reads {
				t.Errorf("readsSource = %v, want %v", got, tc.reads)
			}
		})
	}
	if !readsSource(rootStack("prod", src), src) || rootStack("prod", src).Spec.Path != "clusters/prod" {
		t.Errorf("the root Stack does not read clusters/prod of the fleet: %+v", rootStack("prod", src).Spec)
	}
}

func TestStacksOf(t *testing.T) {
	got, err := stacksOf([]*unstructured.Unstructured{
		obj(t, "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: apps, namespace: flotilla-system}\nspec: {path: apps}\n"),
		obj(t, "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: infra, namespace: ops}\nspec: {path: infra}\n"),
		obj(t, "apiVersion: example.com/v1\nkind: Stack\nmetadata: {name: other}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ops}\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[stackID{DefaultNamespace, "apps"}] == nil || got[stackID{"ops", "infra"}] == nil {
		t.Errorf("stacks = %v, want apps in %s and ops/infra", got, DefaultNamespace)
	}
	_, err = stacksOf([]*unstructured.Unstructured{
		obj(t, "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: bad}\nspec: {prune: 'yes'}\n"),
	})
	if err == nil || !strings.Contains(err.Error(), "Stack bad") {
		t.Errorf("err = %v, want one naming Stack bad", err)
	}
}

// TestStacksOfRefusesWhatTheAgentCannotApply: the root Stack has no
// targetNamespace, and the API server refuses a namespaced object without a
// namespace, so the agent refuses such a root; plan does not guess one.
func TestStacksOfRefusesWhatTheAgentCannotApply(t *testing.T) {
	tests := []struct {
		name, doc, want string // want "" when the root is accepted
	}{
		{name: "stack", doc: "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: apps}\nspec: {path: apps}\n", want: "Stack apps has no metadata.namespace"},
		{name: "config-map", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n", want: "ConfigMap settings has no metadata.namespace"},
		{name: "secret", doc: "apiVersion: v1\nkind: Secret\nmetadata: {name: token}\n", want: "Secret token has no metadata.namespace"},
		{name: "cluster-scoped", doc: "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n"},
		{name: "a-stack-of-another-group", doc: "apiVersion: example.com/v1\nkind: Stack\nmetadata: {name: other}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stacksOf([]*unstructured.Unstructured{obj(t, tt.doc)})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "set metadata.namespace")):
				t.Fatalf("err = %v, want one containing %q that says to set metadata.namespace", err, tt.want)
			}
		})
	}
}

func TestDependenciesDefaultToTheStacksNamespaceAndTheFirstSetWins(t *testing.T) {
	st := func(ns, name string, deps ...v1alpha1.DependencyReference) *v1alpha1.Stack {
		s := &v1alpha1.Stack{}
		s.Namespace, s.Name, s.Spec.DependsOn = ns, name, deps
		return s
	}
	head := map[stackID]*v1alpha1.Stack{{"a", "apps"}: st("a", "apps", v1alpha1.DependencyReference{Name: "infra"}, v1alpha1.DependencyReference{Name: "crds", Namespace: "ops"})}
	base := map[stackID]*v1alpha1.Stack{{"a", "apps"}: st("a", "apps"), {"a", "old"}: st("a", "old")}
	deps := dependencies(head, base)
	want := map[stackID][]stackID{
		{"a", "apps"}: {{"a", "infra"}, {"ops", "crds"}},
		{"a", "old"}:  {},
	}
	if diff := cmp.Diff(want, deps, cmp.AllowUnexported(stackID{})); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
	// A dependency on a Stack outside the sets does not block the order.
	if !depsDone(deps[stackID{"a", "apps"}], deps, map[stackID]bool{}) {
		t.Error("unknown dependencies block the order")
	}
}

func snapshotOf(files ...string) *Snapshot {
	s := newSnapshot("test")
	for _, f := range files {
		s.add(f, filemode.Regular, plumbing.ComputeHash(plumbing.BlobObject, []byte(f)), []byte(f))
	}
	s.index()
	return s
}

func TestSnapshotLookups(t *testing.T) {
	s := snapshotOf("clusters/prod/kustomization.yaml", "clusters/dev/a/b.yaml", "clusters/README.md",
		"apps/base/x.yaml", "clustersX/y.yaml")
	if diff := cmp.Diff([]string{"dev", "prod"}, s.Clusters()); diff != "" {
		t.Errorf("Clusters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"clusters/README.md", "clusters/dev/a/b.yaml", "clusters/prod/kustomization.yaml"}, s.subtree("clusters")); diff != "" {
		t.Errorf("subtree(clusters) must not hold clustersX (-want +got):\n%s", diff)
	}
	if len(s.subtree(".")) != 5 || len(s.subtree("nothing")) != 0 {
		t.Errorf("subtree(.) = %d files, subtree(nothing) = %d", len(s.subtree(".")), len(s.subtree("nothing")))
	}
	for p, want := range map[string]bool{".": true, "clusters": true, "clusters/dev/a": true, "clusters/dev/a/b.yaml": false, "missing": false} {
		if got := s.isDir(p); got != want {
			t.Errorf("isDir(%q) = %v, want %v", p, got, want)
		}
	}
	if !s.isFile("apps/base/x.yaml") || s.isFile("apps/base") {
		t.Error("isFile is wrong for a file or a directory")
	}
}

func TestSnapshotDigestFollowsPathsAndContent(t *testing.T) {
	a := snapshotOf("x.yaml", "y.yaml")
	b := snapshotOf("x.yaml", "y.yaml")
	if a.digest([]string{"x.yaml"}) != b.digest([]string{"x.yaml"}) {
		t.Error("the same file digests differently")
	}
	if a.digest([]string{"x.yaml"}) == a.digest([]string{"y.yaml"}) {
		t.Error("two files digest the same")
	}
	if a.digest([]string{"x.yaml", "y.yaml"}) == a.digest([]string{"x.yaml"}) {
		t.Error("adding a file does not change the digest")
	}
	c := newSnapshot("c")
	c.add("x.yaml", filemode.Executable, plumbing.ComputeHash(plumbing.BlobObject, []byte("x.yaml")), nil)
	c.index()
	if c.digest([]string{"x.yaml"}) == a.digest([]string{"x.yaml"}) {
		t.Error("a mode change does not change the digest")
	}
}
