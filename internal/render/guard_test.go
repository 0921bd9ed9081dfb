package render

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestCheckPluginConfig(t *testing.T) {
	tests := []struct {
		name, config string
		is           error  // nil when the configuration is allowed
		msg          string // part of the message
	}{
		{name: "builtin-transformer", config: "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\nlabels: {a: b}\nfieldSpecs: [{path: metadata/labels, create: true}]\n"},
		{name: "builtin-generator-with-local-files", config: "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: g\nfiles: [conf/app.properties, key=conf/other]\nenvs: [a.env]\n"},
		{name: "external-plugin", config: "apiVersion: example.com/v1\nkind: Sealer\nmetadata:\n  name: s\n",
			is: ErrPlugin, msg: `Sealer s (apiVersion "example.com/v1") is an external plugin`},
		{name: "missing-api-version", config: "kind: Sealer\nmetadata:\n  name: s\n",
			is: ErrPlugin, msg: `(apiVersion "") is an external plugin`},
		{name: "container-function", config: "apiVersion: builtin\nkind: X\nmetadata:\n  name: f\n  annotations:\n    config.kubernetes.io/function: |\n      container: {image: evil}\n",
			is: ErrPlugin, msg: "annotation config.kubernetes.io/function"},
		{name: "legacy-function-annotation", config: "apiVersion: builtin\nkind: X\nmetadata:\n  name: f\n  annotations:\n    config.k8s.io/function: x\n",
			is: ErrPlugin, msg: "annotation config.k8s.io/function"},
		{name: "container-annotation", config: "apiVersion: builtin\nkind: X\nmetadata:\n  name: f\n  annotations:\n    config.kubernetes.io/container: img\n",
			is: ErrPlugin, msg: "annotation config.kubernetes.io/container"},
		{name: "config-fn", config: "apiVersion: builtin\nkind: X\nmetadata:\n  name: f\n  configFn:\n    container: {image: evil}\n",
			is: ErrPlugin, msg: "metadata.configFn"},
		{name: "helm-inflation", config: "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\n",
			is: ErrHelm, msg: "would run helm"},
		{name: "remote-file-with-credentials", config: "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: g\nfiles:\n- key=https://user:pw@example.com/f\n",
			is: ErrRemote, msg: `names "https://example.com/f" in files`},
		{name: "remote-patch-path-nested", config: "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\nspec:\n  inner:\n    path: github.com/org/repo/patch.yaml\n",
			is: ErrRemote, msg: "in path"},
		{name: "remote-value-in-a-field-that-is-not-a-file", config: "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: a\nannotations:\n  docs: https://example.com/\nfieldSpecs: []\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPluginConfig(yaml.MustParse(tt.config))
			if tt.is == nil {
				if err != nil {
					t.Fatalf("got %v, want the configuration allowed", err)
				}
				return
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want %v containing %q", err, tt.is, tt.msg)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("credentials in the message: %v", err)
			}
		})
	}
}

func TestCheckObject(t *testing.T) {
	tests := []struct {
		name, doc, msg string // msg "" when the document is an object
	}{
		{name: "object", doc: configMap},
		{name: "list-without-name", doc: "apiVersion: v1\nkind: List\nitems: []\n"},
		{name: "typed-list-without-name", doc: "apiVersion: v1\nkind: ConfigMapList\nitems: []\n"},
		{name: "sequence", doc: "- a\n- b\n", msg: "is not a mapping"},
		{name: "scalar", doc: "just text\n", msg: "is not a mapping"},
		{name: "no-kind", doc: "apiVersion: v1\nmetadata:\n  name: x\n", msg: "has no kind"},
		{name: "no-name", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", msg: "(ConfigMap) has no metadata.name"},
		// kyaml's getters read these as mappings and panic on a list of odd length.
		{name: "metadata-is-a-list", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n- x\n", msg: "metadata that is not a mapping"},
		{name: "metadata-is-a-scalar", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: x\n", msg: "metadata that is not a mapping"},
		{name: "labels-are-a-list", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [a]\n", msg: "metadata.labels that is not a mapping"},
		{name: "annotations-are-a-scalar", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: a\n", msg: "metadata.annotations that is not a mapping"},
		{name: "annotation-value-is-a-mapping", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {a: {}}\n", msg: "metadata.annotations with a value that is not a string (entry 1)"},
		{name: "label-key-is-a-list", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b, [c]: d}\n", msg: "metadata.labels with a key that is not a string (entry 2)"},
		{name: "empty-annotation-key", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {a: 0, &0 , b}\n", msg: "metadata.annotations with an empty key (entry 2)"},
		{name: "values-that-are-not-quoted", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: 1, b: true, c: null, d: &v x, e: *v}\n"},
		{name: "null-labels", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: null\n  annotations: {}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkObject(yaml.MustParse(tt.doc))
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an error containing %q", err, tt.msg)
			}
		})
	}
}

func TestParseObjectsNamesTheDocument(t *testing.T) {
	data := configMap + "---\n" + "apiVersion: v1\nkind: Secret\nmetadata: {}\nstringData: {token: s3cr3t-in-document}\n"
	_, err := parseObjects("dir/two.yaml", []byte(data))
	var re *Error
	if !errors.As(err, &re) || !errors.Is(err, ErrInvalidYAML) {
		t.Fatalf("got %v, want an *Error wrapping ErrInvalidYAML", err)
	}
	want := "render dir/two.yaml: invalid YAML: document 2 (Secret) has no metadata.name: every object needs apiVersion, kind and metadata.name"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Error(diff)
	}
	nodes, err := parseObjects("ok.yaml", []byte("---\n"+configMap+"---\n# trailing comment\n"))
	if err != nil || len(nodes) != 1 {
		t.Errorf("got %d objects, %v; want the one object and no error", len(nodes), err)
	}
}

func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
	}{
		{name: "first-document", data: "a: [b\n", line: 2},
		{name: "third-document", data: "a: 1\n---\nb: 2\n---\nc: d: e\n", line: 5},
		{name: "tab-indentation", data: "a:\n\tb: 1\n", line: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseObjects("f.yaml", []byte(tt.data))
			var re *Error
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidYAML) {
				t.Fatalf("got %v, want an *Error wrapping ErrInvalidYAML", err)
			}
			if re.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", re.Line, tt.line, err)
			}
		})
	}
}

func TestFileSourcePath(t *testing.T) {
	for in, want := range map[string]string{
		"app.properties":          "app.properties",
		"key=conf/app.properties": "conf/app.properties",
		"k=v=w":                   "v=w",
		"=x":                      "x",
		"":                        "",
	} {
		if got := fileSourcePath(in); got != want {
			t.Errorf("fileSourcePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScalars(t *testing.T) {
	tests := []struct {
		doc  string
		want []string
	}{
		{"x\n", []string{"x"}},
		{"[a, b]\n", []string{"a", "b"}},
		{"[a, [nested], {k: v}, c]\n", []string{"a", "c"}},
		{"{k: v}\n", nil},
	}
	for _, tt := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.doc), &n); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, scalars(n.Content[0])); diff != "" {
			t.Errorf("scalars(%q) (-want +got):\n%s", tt.doc, diff)
		}
	}
}

func TestScalarLine(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("resources:\n- a.yaml\n- b.yaml\npatches:\n- path: b.yaml\n"), &n); err != nil {
		t.Fatal(err)
	}
	for value, want := range map[string]int{"a.yaml": 2, "b.yaml": 3, "patches": 4, "missing": 0} {
		if got := scalarLine(&n, value); got != want {
			t.Errorf("scalarLine(%q) = %d, want %d (the first occurrence)", value, got, want)
		}
	}
	c := &check{}
	if got := c.line("a.yaml"); got != 0 {
		t.Errorf("line without a parsed document = %d, want 0", got)
	}
}

func TestGuardRefusesKustomizationMistakes(t *testing.T) {
	runErrorCases(t, []errorCase{
		{
			name: "two-kustomization-files",
			opts: files(map[string]string{"kustomization.yaml": "resources: []\n", "kustomization.yml": "resources: []\n"}, ""),
			is:   ErrInvalidKustomization, path: ".",
			contains: []string{"holds more than one kustomization file (kustomization.yaml, kustomization.yml): keep one"},
		},
		{
			name: "component-that-is-a-file",
			opts: files(map[string]string{"kustomization.yaml": "components:\n- comp.yaml\n", "comp.yaml": configMap}, ""),
			is:   ErrInvalidKustomization, path: "kustomization.yaml", line: 2,
			contains: []string{`components entry "comp.yaml" is a file`},
		},
		{
			name: "component-that-does-not-exist",
			opts: files(map[string]string{"app/kustomization.yaml": "resources: []\ncomponents:\n- ../gone\n"}, "app"),
			is:   ErrNotFound, path: "app/kustomization.yaml", line: 3,
			contains: []string{`components entry "../gone": gone does not exist`},
		},
		{
			name: "generator-file-missing",
			opts: files(map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: c\n  files:\n  - key=conf/missing.txt\n"}, ""),
			is:   ErrNotFound, path: "kustomization.yaml", line: 4,
			contains: []string{`configMapGenerator.files entry "conf/missing.txt"`},
		},
		{
			name: "generator-env-missing",
			opts: files(map[string]string{"kustomization.yaml": "secretGenerator:\n- name: c\n  envs: [missing.env]\n"}, ""),
			is:   ErrNotFound, path: "kustomization.yaml", line: 3,
			contains: []string{`secretGenerator.envs entry "missing.env"`},
		},
		{
			name: "literal-without-key",
			opts: files(map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: c\n  literals: [A=1, =2]\n"}, ""),
			is:   ErrInvalidKustomization, path: "kustomization.yaml",
			contains: []string{`configMapGenerator "c": literal 2 is not KEY=VALUE`},
		},
		{
			name: "generator-listed-in-a-subdirectory-is-checked-as-a-plugin",
			opts: files(map[string]string{
				"kustomization.yaml":     "generators: [gen]\n",
				"gen/kustomization.yaml": "resources: [plugin.yaml]\n",
				"gen/plugin.yaml":        "apiVersion: example.com/v1\nkind: Exec\nmetadata:\n  name: run\n",
			}, ""),
			is: ErrPlugin, path: "gen/plugin.yaml",
			contains: []string{"Exec run (apiVersion \"example.com/v1\") is an external plugin"},
		},
		{
			name: "second-document-of-a-transformer-file",
			opts: files(map[string]string{
				"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
				"cm.yaml":            configMap,
				"t.yaml":             "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: ok\nlabels: {a: b}\nfieldSpecs: []\n---\napiVersion: v9\nkind: Bad\nmetadata:\n  name: bad\n",
			}, ""),
			is: ErrPlugin, path: "t.yaml",
			contains: []string{"document 2: "},
		},
	})
}

// A component above the artifact root is refused as outside, not reported
// missing.
func TestComponentClimbingOutOfTheRoot(t *testing.T) {
	root := writeTree(t, map[string]string{"kustomization.yaml": "resources: []\ncomponents:\n- ../gone\n"})
	_, err := Build(context.Background(), Options{Root: root})
	if !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("got %v, want ErrOutsideRoot", err)
	}
}

// checkedGuard runs the guard over the root of a tree written from files.
func checkedGuard(t *testing.T, files map[string]string) *guard {
	t.Helper()
	tr := mustLoad(t, writeTree(t, files), unlimited)
	if _, err := tr.prepareTarget("."); err != nil {
		t.Fatal(err)
	}
	g := newGuard(context.Background(), tr, ".")
	if err := g.kustomization(".", false); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardCollectsSecretValues(t *testing.T) {
	g := checkedGuard(t, map[string]string{
		"kustomization.yaml": "resources: [secret.yaml]\nsecretGenerator:\n- name: gen\n  literals: [\"TOKEN='quoted-literal-value'\"]\n  envs: [creds.env]\n  files: [cert.pem]\n",
		"secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: " + base64.StdEncoding.EncodeToString([]byte("decoded-data-value")) + "\nstringData:\n  b: plain-string-value\n",
		"creds.env":          "USER=env-user-value\n# comment\nPASS=\"env-pass-value\"\n",
		"cert.pem":           "line-one-value\nline-two-value\n",
	})
	r := g.artifactRedactor()
	for _, v := range []string{"quoted-literal-value", "'quoted-literal-value'", base64.StdEncoding.EncodeToString([]byte("decoded-data-value")), "decoded-data-value",
		"plain-string-value", "env-user-value", "env-pass-value", `"env-pass-value"`, "line-one-value", "line-two-value"} {
		if got := r.String("x " + v + " y"); strings.Contains(got, v) {
			t.Errorf("%q is not masked: %q", v, got)
		}
	}
	if got := r.String("kustomization resources"); got != "kustomization resources" {
		t.Errorf("ordinary words were masked: %q", got)
	}
}

func TestGuardVisitsEachKustomizationOnce(t *testing.T) {
	g := checkedGuard(t, map[string]string{
		"kustomization.yaml":        "resources: [a, b]\n",
		"a/kustomization.yaml":      "resources: [../shared]\n",
		"b/kustomization.yaml":      "resources: [../shared]\n",
		"shared/kustomization.yaml": "resources: [cm.yaml]\n",
		"shared/cm.yaml":            configMap,
	})
	if g.objects != 1 {
		t.Errorf("counted %d objects, want 1: the shared base was read twice", g.objects)
	}
	want := map[string]bool{"false:.": true, "false:a": true, "false:b": true, "false:shared": true}
	if diff := cmp.Diff(want, g.visited); diff != "" {
		t.Errorf("visited (-want +got):\n%s", diff)
	}
}

func TestGuardHonoursCancelledContext(t *testing.T) {
	tr := mustLoad(t, writeTree(t, map[string]string{"kustomization.yaml": "resources: []\n"}), unlimited)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := newGuard(ctx, tr, ".").kustomization(".", false)
	var re *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Path != "." {
		t.Errorf("got %v, want an *Error at . wrapping context.Canceled", err)
	}
}
