package render

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// doc is one file of fast-path input.
type doc struct{ file, yaml string }

// fastInputs parses docs as the fast path reads them.
func fastInputs(t *testing.T, docs ...doc) []fastInput {
	t.Helper()
	var in []fastInput
	for _, d := range docs {
		rs, err := resourceFactory.SliceFromBytes([]byte(d.yaml))
		if err != nil {
			t.Fatalf("%s: %v", d.file, err)
		}
		for _, r := range rs {
			in = append(in, fastInput{res: r, file: d.file})
		}
	}
	return in
}

// mustDefaults is kustomize's configuration as the fast path reads it.
func mustDefaults(t *testing.T) kustomizeDefaults {
	t.Helper()
	d, err := loadDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadDefaultsHoldsWhatTheFastPathNeeds(t *testing.T) {
	d := mustDefaults(t)
	if len(d.NameSpace) == 0 || len(d.CommonAnnotations) == 0 {
		t.Errorf("namespace or commonAnnotations field specs are missing: %d, %d", len(d.NameSpace), len(d.CommonAnnotations))
	}
	kinds := map[string]bool{}
	for _, r := range d.NameReference {
		if len(r.Referrers) == 0 {
			t.Errorf("%s has no referring fields", r.Kind)
		}
		kinds[r.Kind] = true
	}
	for _, k := range []string{"ConfigMap", "Secret", "Service", "ServiceAccount", "Role", "ClusterRole", "PersistentVolumeClaim", "Deployment"} {
		if !kinds[k] {
			t.Errorf("%s is not among the kinds referred to by name", k)
		}
	}
}

func TestFastPathHandlesAnnotations(t *testing.T) {
	tests := []struct {
		key  string
		fast bool
	}{
		{"config.kubernetes.io/local-config", false},
		{"config.k8s.io/id", false},
		{"internal.config.kubernetes.io/path", false},
		{"kustomize.config.k8s.io/needs-hash", false},
		{"alpha.config.kubernetes.io/x", false},
		{"kustomize.toolkit.fluxcd.io/prune", true},
		{"my.config.kubernetes.io/x", true},
		{"config.kubernetes.io", true},
		{"flotilla.io/substitute", true},
	}
	d := mustDefaults(t)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			in := fastInputs(t, doc{"cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    " + tt.key + ": \"x\"\n"})
			if got := fastPathHandles(in, Options{}, d); got != tt.fast {
				t.Errorf("fastPathHandles = %t, want %t", got, tt.fast)
			}
		})
	}
}

func TestNameReferencesMayFail(t *testing.T) {
	deployment := func(spec string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n" + spec
	}
	binding := func(subjects string) string {
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n" + subjects
	}
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{name: "pod-template", doc: deployment("  template:\n    spec:\n      serviceAccountName: robot\n      containers: [{name: c, envFrom: [{configMapRef: {name: cm}}]}]\n")},
		{name: "null-and-absent-fields", doc: deployment("  template:\n    metadata: {}\n    spec: null\n")},
		{name: "template-is-a-scalar", want: true, doc: deployment("  template: 1\n")},
		{name: "spec-is-a-scalar", want: true, doc: deployment("  x\n")},
		{name: "container-is-a-scalar", want: true, doc: deployment("  template:\n    spec:\n      containers: [c]\n")},
		{name: "subject-with-a-name", doc: binding("subjects:\n- {kind: ServiceAccount, name: robot}\n")},
		{name: "subject-without-a-name", want: true, doc: binding("subjects:\n- {kind: ServiceAccount}\n")},
		{name: "subject-is-a-list", want: true, doc: binding("subjects:\n- [robot]\n")},
		{name: "subjects-are-a-mapping-without-a-name", want: true, doc: binding("subjects: {kind: ServiceAccount}\n")},
		{name: "api-version-that-does-not-read-back", want: true, doc: "apiVersion: /\nkind: Role\nmetadata:\n  name: r\n"},
		{name: "null-subject", want: true, doc: binding("subjects:\n-\n")},
		{name: "subject-kind-is-a-number", want: true, doc: binding("subjects:\n- {kind: 1, name: robot, namespace: x}\n")},
		{name: "service-account-namespace-is-a-number", want: true, doc: binding("subjects:\n- {kind: ServiceAccount, name: robot, namespace: 1}\n")},
		{name: "subject-in-another-namespace", doc: binding("subjects:\n- {kind: ServiceAccount, name: robot, namespace: x}\n")},
		{name: "kind-that-refers-to-nothing", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nspec: 1\n"},
	}
	d := mustDefaults(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fastInputs(t, doc{"a.yaml", tt.doc})
			if got := nameReferencesMayFail(in, d); got != tt.want {
				t.Errorf("nameReferencesMayFail = %t, want %t", got, tt.want)
			}
			if got := fastPathHandles(in, Options{}, d); got == tt.want {
				t.Errorf("fastPathHandles = %t, want %t", got, !tt.want)
			}
		})
	}
}

func TestNameReferencesPossible(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
	deployment := func(podSpec string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n" + podSpec
	}
	tests := []struct {
		name string
		docs []string
		want bool
	}{
		{name: "no-kind-that-is-referred-to", docs: []string{
			"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: settings\n",
			"apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: settings\n",
		}},
		{name: "referring-field", want: true, docs: []string{cm, deployment("      containers:\n      - name: c\n        envFrom:\n        - configMapRef: {name: settings}\n")}},
		{name: "name-in-an-unrelated-field-counts", want: true, docs: []string{cm, deployment("      containers:\n      - name: settings\n")}},
		{name: "name-as-a-key-counts", want: true, docs: []string{cm, deployment("      nodeSelector:\n        settings: x\n")}},
		{name: "referrer-named-like-the-object", want: true, docs: []string{cm, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: settings\n"}},
		{name: "prefix-of-the-name-does-not-count", docs: []string{cm, deployment("      containers:\n      - name: settings-v2\n")}},
		{name: "kind-that-cannot-refer", docs: []string{cm, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  ref: settings\n"}},
		{name: "service-account-in-a-role-binding", want: true, docs: []string{
			"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n",
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nsubjects:\n- kind: ServiceAccount\n  name: robot\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n",
		}},
		{name: "secret-as-image-pull-secret", want: true, docs: []string{
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\n",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  imagePullSecrets: [{name: pull}]\n  containers: []\n",
		}},
		{name: "secret-name-held-by-a-service", docs: []string{
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\n",
			"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  labels: {secret: pull}\n",
		}},
	}
	d := mustDefaults(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var docs []doc
			for i, y := range tt.docs {
				docs = append(docs, doc{file: string(rune('a'+i)) + ".yaml", yaml: y})
			}
			if got := nameReferencesPossible(fastInputs(t, docs...), Options{}, d); got != tt.want {
				t.Errorf("nameReferencesPossible = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestHoldsNameFollowsAliasesAndKeys(t *testing.T) {
	names := []map[string]bool{{"settings": true}, nil}
	tests := []struct {
		name, doc string
		want      bool
	}{
		{name: "scalar-value", doc: "a: settings\n", want: true},
		{name: "alias-to-a-name", doc: "x: &n settings\ny: *n\n", want: true},
		{name: "alias-to-a-mapping", doc: "x: &m {k: settings}\ny: *m\n", want: true},
		{name: "key", doc: "settings: 1\n", want: true},
		{name: "inside-a-list", doc: "l: [a, [b, settings]]\n", want: true},
		{name: "absent", doc: "a: b\nc: [d]\n"},
		{name: "different-case", doc: "a: Settings\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &n); err != nil {
				t.Fatal(err)
			}
			if got := holdsName(&n, []int{0}, names); got != tt.want {
				t.Errorf("holdsName = %t, want %t", got, tt.want)
			}
		})
	}
	if holdsName(nil, []int{0}, names) {
		t.Error("a nil node holds a name")
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a: settings\n"), &n); err != nil {
		t.Fatal(err)
	}
	if holdsName(&n, []int{1}, names) {
		t.Error("a kind without objects matched")
	}
}

func TestUniqueIDs(t *testing.T) {
	cm := func(ns string) string {
		s := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
		if ns != "" {
			s += "  namespace: " + ns + "\n"
		}
		return s
	}
	tests := []struct {
		name string
		docs []doc
		err  string // "" when the ids are unique
	}{
		{name: "no-namespace-and-default-are-one", docs: []doc{{"a.yaml", cm("")}, {"b.yaml", cm("default")}},
			err: "render b.yaml: ConfigMap default/cm: kustomize build failed: duplicate object: ConfigMap.v1.[noGrp]/cm.default is defined twice, in a.yaml and in b.yaml"},
		{name: "different-namespaces", docs: []doc{{"a.yaml", cm("one")}, {"b.yaml", cm("two")}}},
		{name: "cluster-scoped-kind-ignores-namespace", docs: []doc{
			{"a.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: one\n"},
			{"b.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: two\n"},
		}, err: "is defined twice, in a.yaml and in b.yaml"},
		{name: "same-name-other-kind", docs: []doc{{"a.yaml", cm("")}, {"b.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cm\n"}}},
		{name: "same-kind-other-version", docs: []doc{
			{"a.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"},
			{"b.yaml", "apiVersion: example.com/v2\nkind: Widget\nmetadata:\n  name: w\n"},
		}},
		{name: "third-object-repeats-the-first", docs: []doc{{"a.yaml", cm("x")}, {"b.yaml", cm("y")}, {"c.yaml", cm("x")}},
			err: "in a.yaml and in c.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := uniqueIDs(fastInputs(t, tt.docs...), "")
			if tt.err == "" {
				if err != nil {
					t.Fatalf("got %v, want the ids unique", err)
				}
				return
			}
			if !errors.Is(err, ErrDuplicate) || !errors.Is(err, ErrKustomize) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("got %v, want ErrDuplicate containing %q", err, tt.err)
			}
		})
	}
}

func TestFastPathFiles(t *testing.T) {
	plain := map[string]string{"stack/a.yaml": configMap, "stack/sub/b.yml": strings.Replace(configMap, "cm", "b", 1)}
	tests := []struct {
		name  string
		files map[string]string
		opts  func(o *Options)
		want  []string // nil when the fast path is not taken
	}{
		{name: "plain-directory-in-listing-order", files: plain, want: []string{"a.yaml", "sub/b.yml"}},
		{name: "kustomize-only", files: plain, opts: func(o *Options) { o.kustomizeOnly = true }},
		{name: "patches", files: plain, opts: func(o *Options) { o.Patches = []Patch{{Patch: "kind: ConfigMap\n"}} }},
		{name: "images", files: plain, opts: func(o *Options) { o.Images = []Image{{Name: "x"}} }},
		{name: "own-kustomization", files: map[string]string{"stack/kustomization.yaml": "resources: [a.yaml]\n", "stack/a.yaml": configMap}},
		{name: "listed-subdirectory", files: map[string]string{"stack/a.yaml": configMap, "stack/sub/kustomization.yaml": "resources: []\n"}},
		{name: "labels-annotations-namespace-substitution", files: plain, opts: func(o *Options) {
			o.CommonLabels, o.CommonAnnotations = map[string]string{"a": "b"}, map[string]string{"c": "d"}
			o.TargetNamespace, o.Substitute = "ns", map[string]string{"X": "y"}
		}, want: []string{"a.yaml", "sub/b.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Path: "stack"}
			if tt.opts != nil {
				tt.opts(&o)
			}
			tr := mustLoad(t, writeTree(t, tt.files), unlimited)
			if _, err := tr.prepareTarget(o.Path); err != nil {
				t.Fatal(err)
			}
			got, ok := tr.fastPathFiles(o, newGuard(context.Background(), tr, o.Path))
			if ok != (tt.want != nil) {
				t.Fatalf("fast path taken: %t, want %t", ok, tt.want != nil)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

// buildCountingFast builds o both ways and says whether the default path
// took the fast path.
func buildCountingFast(t *testing.T, o Options) ([]string, bool, error) {
	t.Helper()
	before := fastRenders.Load()
	objs, err := buildBoth(t, o)
	fast := fastRenders.Load() > before
	var ids []string
	for _, u := range objs {
		ids = append(ids, objectName(u.GetKind(), u.GetNamespace(), u.GetName()))
	}
	return ids, fast, err
}

func TestFastPathEdges(t *testing.T) {
	cm := func(name string) string { return strings.Replace(configMap, "name: cm", "name: "+name, 1) }
	tests := []struct {
		name  string
		files map[string]string
		ids   []string
		fast  bool
	}{
		{name: "only-empty-documents-and-comments", fast: true, ids: nil, files: map[string]string{
			"stack/empty.yaml": "", "stack/comment.yaml": "# nothing yet\n", "stack/separators.yml": "---\n---\n",
		}},
		{name: "empty-list", fast: true, ids: nil, files: map[string]string{"stack/list.yaml": "apiVersion: v1\nkind: List\nitems: []\n"}},
		// The listing walks names in lexical order: the directory b comes
		// before the file b.yaml.
		{name: "objects-in-lexical-walk-order", fast: true,
			ids: []string{"ConfigMap a", "ConfigMap c", "ConfigMap d", "ConfigMap b"},
			files: map[string]string{
				"stack/a.yaml": cm("a"), "stack/b/c.yaml": cm("c"), "stack/b.yaml": cm("b"), "stack/b/d/d.yaml": cm("d"),
			}},
		{name: "local-config-object-dropped-by-kustomize", fast: false, ids: []string{"ConfigMap kept"}, files: map[string]string{
			"stack/a.yaml": cm("kept"),
			"stack/b.yaml": strings.Replace(cm("local"), "name: local\n", "name: local\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n", 1),
		}},
		{name: "documents-of-one-file-keep-their-order", fast: true, ids: []string{"ConfigMap z", "ConfigMap y", "ConfigMap x"}, files: map[string]string{
			"stack/all.yaml": cm("z") + "---\n" + cm("y") + "---\n" + cm("x"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, fast, err := buildCountingFast(t, Options{Root: writeTree(t, tt.files), Path: "stack"})
			if err != nil {
				t.Fatal(err)
			}
			if fast != tt.fast {
				t.Errorf("took the fast path: %t, want %t", fast, tt.fast)
			}
			if diff := cmp.Diff(tt.ids, ids); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFastPathEmptyRenderIsAnEmptySlice(t *testing.T) {
	root := writeTree(t, map[string]string{"stack/empty.yaml": "# nothing\n"})
	objs, err := Build(context.Background(), Options{Root: root, Path: "stack"})
	if err != nil {
		t.Fatal(err)
	}
	if objs == nil || len(objs) != 0 {
		t.Errorf("got %#v, want an empty, non-nil slice", objs)
	}
}

func TestDuplicatesAcrossVersionsAndDefaultNamespace(t *testing.T) {
	runErrorCases(t, []errorCase{
		{
			// kustomize's ids hold the version, so both builds keep the two;
			// the converter, which compares group and kind, refuses them.
			name: "same-object-in-two-versions",
			opts: files(map[string]string{
				"stack/v1.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: ns\n",
				"stack/v2.yaml": "apiVersion: example.com/v2\nkind: Widget\nmetadata:\n  name: w\n  namespace: ns\n",
			}, "stack"),
			is: ErrDuplicate, path: "stack/v2.yaml", object: "Widget.example.com ns/w",
			contains: []string{"Widget.example.com ns/w is defined twice, in stack/v1.yaml and in stack/v2.yaml"},
		},
		{
			name: "no-namespace-and-default-namespace",
			opts: files(map[string]string{
				"stack/a.yaml": configMap,
				"stack/b.yaml": strings.Replace(configMap, "name: cm\n", "name: cm\n  namespace: default\n", 1),
			}, "stack"),
			is: ErrDuplicate, path: "stack/b.yaml", object: "ConfigMap default/cm",
			contains:  []string{"defined twice, in stack/a.yaml and in stack/b.yaml"},
			kustomize: &errorCase{is: ErrDuplicate, path: "stack", contains: []string{"ConfigMap.v1.[noGrp]/cm.default"}},
		},
	})
}

// TestFastPathTurnsAPanicIntoAnError feeds the fast path, past the guard,
// annotations with an empty key, on which kustomize's RemoveBuildAnnotations
// panics: the render fails as a kustomize build that panicked does, and the
// caller (the agent) goes on.
func TestFastPathTurnsAPanicIntoAnError(t *testing.T) {
	in := fastInputs(t, doc{"stack/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {a: b, &0 , c}\n"})
	objs, err := renderFast(t.Context(), in, Options{Path: "stack"}, mustDefaults(t), &guard{})
	if objs != nil || !errors.Is(err, ErrKustomize) || !strings.Contains(err.Error(), "kustomize panicked: ") {
		t.Fatalf("got %d objects and %v, want an error wrapping ErrKustomize that says kustomize panicked", len(objs), err)
	}
	var re *Error
	if !errors.As(err, &re) || re.Path != "stack" {
		t.Errorf("got %v, want an *Error for the directory stack", err)
	}
}
