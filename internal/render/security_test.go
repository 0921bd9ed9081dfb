package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// outsideMarker is the content of files planted outside the artifact root.
// It must never appear in any output or error.
const outsideMarker = "0utside-the-root-marker"

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"

func TestRemoteBasesRefused(t *testing.T) {
	spellings := []string{
		"https://github.com/example/fleet//apps/base?ref=v1.0.0",
		"http://example.com/manifests/deployment.yaml",
		"git@github.com:example/fleet.git/apps/base",
		"github.com/example/fleet/apps/base?ref=main",
		"GitHub.com/example/fleet/apps/base",
		"github.com:example/fleet/apps/base",
		"gitlab.com/example/fleet/apps/base",
		"bitbucket.org/example/fleet/apps/base",
		"ssh://git@example.com/fleet.git//apps/base",
		"git::https://example.com/fleet.git",
		"GIT::https://example.com/fleet.git",
		"file:///srv/fleet.git",
		"deploy@git.example.com:fleet.git",
		"example.com/fleet//apps/base",
		"../apps/base?ref=main",
		"https://dev.azure.com/org/project/_git/fleet/apps/base",
	}
	var cases []errorCase
	for _, s := range spellings {
		cases = append(cases, errorCase{
			name: "resources/" + s,
			opts: files(map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n- " + s + "\n", "cm.yaml": configMap}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 3,
			contains: []string{`resources entry "` + redact.URL(s) + `" is remote`, "vendor the base"},
		})
	}
	cases = append(cases, []errorCase{
		{
			name: "credentials-in-url-are-not-shown",
			opts: files(map[string]string{"kustomization.yaml": "resources:\n- https://bot:t0ken-marker@github.com/example/fleet\n"}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 2,
			secrets: []string{"t0ken-marker"},
		},
		{
			name: "component",
			opts: files(map[string]string{"kustomization.yaml": "components:\n- github.com/example/components/monitoring\n"}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 2, contains: []string{"components entry"},
		},
		{
			name: "legacy-bases-field",
			opts: files(map[string]string{"kustomization.yaml": "bases:\n- git@github.com:example/fleet.git\n"}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 2,
		},
		{
			name: "patch-path",
			opts: files(map[string]string{"kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: https://example.com/patch.yaml\n", "cm.yaml": configMap}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 3, contains: []string{"patches entry"},
		},
		{
			name: "config-map-generator-file",
			opts: files(map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [key=https://example.com/data]\n"}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 3, contains: []string{"configMapGenerator.files entry"},
		},
		{
			name: "nested-base-reached-through-a-local-base",
			opts: files(map[string]string{
				"clusters/prod/kustomization.yaml": "resources:\n- ../../apps/base\n",
				"apps/base/kustomization.yaml":     "resources:\n- cm.yaml\n- https://github.com/example/fleet//apps/base\n",
				"apps/base/cm.yaml":                configMap,
			}, "clusters/prod"),
			is: ErrRemote, path: "apps/base/kustomization.yaml", line: 3,
		},
		{
			name: "transformer-directory",
			opts: files(map[string]string{"kustomization.yaml": "resources: [cm.yaml]\ntransformers:\n- github.com/example/transformers\n", "cm.yaml": configMap}, ""),
			is:   ErrRemote, path: "kustomization.yaml", line: 3, contains: []string{"transformers entry"},
		},
	}...)
	runErrorCases(t, cases)
}

func TestExecutionRefused(t *testing.T) {
	runErrorCases(t, []errorCase{
		{
			name: "helm-charts", opts: at("helm-charts", ""),
			is: ErrHelm, path: "kustomization.yaml", line: 1,
			contains: []string{"render the chart into plain manifests"},
		},
		{
			name: "helm-globals",
			opts: files(map[string]string{"kustomization.yaml": "resources: [cm.yaml]\nhelmGlobals:\n  chartHome: charts\n", "cm.yaml": configMap}, ""),
			is:   ErrHelm, path: "kustomization.yaml",
		},
		{
			name: "legacy-helm-chart-inflation-generator",
			opts: files(map[string]string{"kustomization.yaml": "helmChartInflationGenerator:\n- chartName: x\n  chartRepoUrl: https://example.com\n"}, ""),
			is:   ErrHelm, path: "kustomization.yaml",
		},
		{
			name: "exec-function-annotation", opts: at("exec-function", ""),
			is: ErrPlugin, path: "set-owner.yaml",
			contains: []string{"SetOwner set-owner is a KRM function (annotation config.kubernetes.io/function)"},
		},
		{
			name: "exec-plugin-with-spec-exec", opts: at("exec-plugin", ""),
			is: ErrPlugin, path: "generator.yaml",
			contains: []string{`SecretsFromVault vault (apiVersion "someteam.example.com/v1") is an external plugin`},
		},
		{
			name: "inline-container-function",
			opts: files(map[string]string{
				"kustomization.yaml": "resources: [cm.yaml]\ntransformers:\n- |\n  apiVersion: example.com/v1\n  kind: Fn\n  metadata:\n    name: fn\n" +
					"    annotations:\n      config.kubernetes.io/function: |\n        container:\n          image: evil.example.com/fn\n",
				"cm.yaml": configMap,
			}, ""),
			is: ErrPlugin, path: "kustomization.yaml", line: 3,
			contains: []string{"transformers entry", "Fn fn is a KRM function"},
		},
		{
			name: "legacy-container-annotation-on-builtin",
			opts: files(map[string]string{
				"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [labels.yaml]\n",
				"labels.yaml":        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\n  annotations:\n    config.kubernetes.io/container: evil.example.com/fn\nlabels: {a: b}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
				"cm.yaml":            configMap,
			}, ""),
			is: ErrPlugin, path: "labels.yaml",
		},
		{
			name: "config-fn-field",
			opts: files(map[string]string{
				"kustomization.yaml": "resources: [cm.yaml]\nvalidators: [v.yaml]\n",
				"v.yaml":             "apiVersion: builtin\nkind: Validator\nmetadata:\n  name: v\n  configFn:\n    container:\n      image: evil.example.com/fn\n",
				"cm.yaml":            configMap,
			}, ""),
			is: ErrPlugin, path: "v.yaml", contains: []string{"metadata.configFn"},
		},
		{
			name: "builtin-patch-transformer-with-url",
			opts: files(map[string]string{
				"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [patch.yaml]\n",
				"patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: https://example.com/patch.yaml\ntarget: {kind: ConfigMap}\n",
				"cm.yaml":            configMap,
			}, ""),
			is: ErrRemote, path: "patch.yaml", contains: []string{`names "https://example.com/patch.yaml" in path`},
		},
		{
			name: "builtin-generator-with-url-file",
			opts: files(map[string]string{
				"kustomization.yaml": "generators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n  metadata:\n    name: g\n  files:\n  - key=http://169.254.169.254/latest/meta-data\n",
			}, ""),
			is: ErrRemote, path: "kustomization.yaml", line: 2,
		},
		{
			name: "builtin-helm-generator",
			opts: files(map[string]string{
				"kustomization.yaml": "generators: [helm.yaml]\n",
				"helm.yaml":          "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\nname: x\nrepo: https://example.com\n",
			}, ""),
			is: ErrHelm, path: "helm.yaml",
		},
		{
			name: "plugin-in-a-transformer-kustomization-directory",
			opts: files(map[string]string{
				"kustomization.yaml":              "resources: [cm.yaml]\ntransformers: [transformers]\n",
				"cm.yaml":                         configMap,
				"transformers/kustomization.yaml": "resources: [fn.yaml]\n",
				"transformers/fn.yaml":            "apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: fn\n",
			}, ""),
			is: ErrPlugin, path: "transformers/fn.yaml",
		},
	})
}

func TestBuiltinTransformerFileAllowed(t *testing.T) {
	root := writeTree(t, map[string]string{
		"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [labels.yaml]\n",
		"labels.yaml":        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\nlabels: {team: a}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
		"cm.yaml":            configMap,
	})
	objs, err := buildBoth(t, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if got := objs[0].GetLabels()["team"]; got != "a" {
		t.Fatalf("label team = %q, want a", got)
	}
}

// outsideTree writes files below root, a subdirectory of a temporary
// directory that also holds ../outside.yaml, ../outside.txt and
// ../outside-dir/kustomization.yaml, all holding outsideMarker.
func outsideTree(t *testing.T, contents map[string]string) (tmp, root string) {
	t.Helper()
	tmp = t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\ndata:\n  marker: " + outsideMarker + "\n"
	for name, content := range map[string]string{
		"outside.yaml":                    cm,
		"outside.txt":                     outsideMarker,
		"outside-dir/kustomization.yaml":  "resources: [cm.yaml]\n",
		"outside-dir/cm.yaml":             cm,
		"outside-dir/data.txt":            outsideMarker,
		"outside-dir/nested/leak.yaml":    cm,
		"outside-dir/nested/another.yaml": cm,
	} {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root = filepath.Join(tmp, "root")
	for name, content := range contents {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tmp, root
}

// symlink creates link (relative to root) pointing at target.
func symlink(t *testing.T, root, link, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(link))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// escapeCase is a tree whose render must be refused without reading outside.
type escapeCase struct {
	name     string
	files    map[string]string
	links    map[string]string // link -> target; "$TMP" in a target is the temporary directory
	path     string
	is       error
	errPath  string
	contains string
}

func TestPathsOutsideRootRefused(t *testing.T) {
	kust := func(s string) map[string]string {
		return map[string]string{"kustomization.yaml": s, "cm.yaml": configMap}
	}
	runEscapeCases(t, []escapeCase{
		{name: "render-path-climbing-out", files: kust("resources: [cm.yaml]\n"), path: "../outside-dir", is: ErrOutsideRoot, errPath: "../outside-dir"},
		{name: "render-path-climbing-out-after-cleaning", files: kust("resources: [cm.yaml]\n"), path: "apps/../../outside-dir", is: ErrOutsideRoot, errPath: "apps/../../outside-dir"},
		{name: "render-path-absolute", files: kust("resources: [cm.yaml]\n"), path: "$TMP/outside-dir", is: ErrOutsideRoot},
		{name: "resource-climbing-above-root", files: kust("resources:\n- cm.yaml\n- ../../outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml", contains: `"../../outside.yaml" climbs above the artifact root`},
		{name: "resource-one-level-above-root", files: kust("resources:\n- ../outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "base-climbing-above-root", files: kust("resources:\n- ../outside-dir\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "absolute-resource", files: kust("resources:\n- $TMP/outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml", contains: "is an absolute path"},
		{name: "absolute-system-file", files: kust("configMapGenerator:\n- name: x\n  files: [/etc/passwd]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "generator-file-climbing", files: kust("configMapGenerator:\n- name: x\n  files: [../outside.txt]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "generator-env-climbing", files: kust("secretGenerator:\n- name: x\n  envs: [../outside.txt]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "generator-env-singular-climbing", files: kust("configMapGenerator:\n- name: x\n  env: ../outside.txt\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "patch-path-climbing", files: kust("resources: [cm.yaml]\npatches:\n- path: ../outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "patches-strategic-merge-climbing", files: kust("resources: [cm.yaml]\npatchesStrategicMerge:\n- ../outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "patches-json6902-climbing", files: kust("resources: [cm.yaml]\npatchesJson6902:\n- path: ../outside.yaml\n  target: {kind: ConfigMap, name: cm, version: v1}\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "crds-climbing", files: kust("resources: [cm.yaml]\ncrds: [../outside.yaml]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "openapi-path-climbing", files: kust("resources: [cm.yaml]\nopenapi:\n  path: ../outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "configurations-climbing", files: kust("resources: [cm.yaml]\nconfigurations: [../outside.yaml]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "replacements-path-climbing", files: kust("resources: [cm.yaml]\nreplacements:\n- path: ../outside.yaml\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "component-climbing", files: kust("resources: [cm.yaml]\ncomponents: [../outside-dir]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{name: "transformer-climbing", files: kust("resources: [cm.yaml]\ntransformers: [../outside.yaml]\n"), is: ErrOutsideRoot, errPath: "kustomization.yaml"},
		{
			name:  "nested-base-climbing-above-root",
			files: map[string]string{"clusters/prod/kustomization.yaml": "resources: [../../apps/base]\n", "apps/base/kustomization.yaml": "resources: [../../../outside.yaml]\n"},
			path:  "clusters/prod", is: ErrOutsideRoot, errPath: "apps/base/kustomization.yaml",
		},
	})
}

func TestSymlinksEscapingRootRefused(t *testing.T) {
	runEscapeCases(t, []escapeCase{
		{
			name: "file-symlink-in-plain-directory", files: map[string]string{"cm.yaml": configMap},
			links: map[string]string{"leaked.yaml": "../outside.yaml"},
			is:    ErrOutsideRoot, errPath: "leaked.yaml", contains: "symlink that points outside the artifact root",
		},
		{
			name: "absolute-file-symlink-in-plain-directory", files: map[string]string{"cm.yaml": configMap},
			links: map[string]string{"leaked.yaml": "$TMP/outside.yaml"},
			is:    ErrOutsideRoot, errPath: "leaked.yaml",
		},
		{
			name: "directory-symlink-in-plain-directory", files: map[string]string{"cm.yaml": configMap},
			links: map[string]string{"vendor": "../outside-dir/nested"},
			is:    ErrOutsideRoot, errPath: "vendor",
		},
		{
			name: "file-symlink-as-resource", files: map[string]string{"kustomization.yaml": "resources: [leaked.yaml]\n"},
			links: map[string]string{"leaked.yaml": "../outside.yaml"},
			is:    ErrOutsideRoot, errPath: "kustomization.yaml", contains: `resources entry "leaked.yaml"`,
		},
		{
			name: "directory-symlink-as-base", files: map[string]string{"kustomization.yaml": "resources: [base]\n"},
			links: map[string]string{"base": "../outside-dir"},
			is:    ErrOutsideRoot, errPath: "kustomization.yaml",
		},
		{
			name: "file-below-directory-symlink", files: map[string]string{"kustomization.yaml": "resources: [vendor/cm.yaml]\n"},
			links: map[string]string{"vendor": "../outside-dir"},
			is:    ErrOutsideRoot, errPath: "kustomization.yaml", contains: "vendor is not loaded",
		},
		{
			name: "generator-file-symlink", files: map[string]string{"kustomization.yaml": "secretGenerator:\n- name: x\n  files: [token=token.txt]\n"},
			links: map[string]string{"token.txt": "../outside.txt"},
			is:    ErrOutsideRoot, errPath: "kustomization.yaml",
		},
		{
			name: "symlink-to-etc-passwd", files: map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [passwd]\n"},
			links: map[string]string{"passwd": "/etc/passwd"},
			is:    ErrOutsideRoot, errPath: "kustomization.yaml",
		},
		{
			name: "kustomization-file-symlink", files: map[string]string{"cm.yaml": configMap},
			links: map[string]string{"kustomization.yaml": "../outside-dir/kustomization.yaml"},
			is:    ErrOutsideRoot, errPath: "kustomization.yaml",
		},
		{
			name: "symlinked-root-subdirectory-as-render-path", files: map[string]string{"cm.yaml": configMap},
			links: map[string]string{"clusters": "../outside-dir"},
			path:  "clusters", is: ErrOutsideRoot, errPath: "clusters",
		},
		{
			name: "broken-symlink-is-named", files: map[string]string{"kustomization.yaml": "resources: [gone.yaml]\n"},
			links: map[string]string{"gone.yaml": "does-not-exist.yaml"},
			is:    ErrNotFound, errPath: "kustomization.yaml", contains: "broken symlink",
		},
		{
			name: "symlink-loop-is-named", files: map[string]string{"kustomization.yaml": "resources: [a/loop/cm.yaml]\n", "a/cm.yaml": configMap},
			links: map[string]string{"a/loop": "."},
			is:    ErrNotFound, errPath: "kustomization.yaml", contains: "symlink loop",
		},
	})
}

// runEscapeCases builds each case and checks that it fails with the right
// error and that outsideMarker appears nowhere.
func runEscapeCases(t *testing.T, cases []escapeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp, root := outsideTree(t, nil)
			for name, content := range tc.files {
				writeFile(t, root, name, strings.ReplaceAll(content, "$TMP", tmp))
			}
			for link, target := range tc.links {
				symlink(t, root, link, strings.ReplaceAll(target, "$TMP", tmp))
			}
			objs, err := buildBoth(t, Options{Root: root, Path: strings.ReplaceAll(tc.path, "$TMP", tmp)})
			assertNoSecret(t, toYAML(t, objs), outsideMarker)
			if err == nil {
				t.Fatalf("got no error, want %v; output:\n%s", tc.is, toYAML(t, objs))
			}
			assertNoSecret(t, err.Error(), outsideMarker)
			var re *Error
			if !errors.Is(err, tc.is) || !errors.As(err, &re) {
				t.Fatalf("got %v, want an *Error wrapping %v", err, tc.is)
			}
			if tc.errPath != "" && re.Path != tc.errPath {
				t.Errorf("error path = %q, want %q (%v)", re.Path, tc.errPath, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

func writeFile(t testing.TB, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSymlinksInsideRootFollowed(t *testing.T) {
	_, root := outsideTree(t, map[string]string{
		"shared/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n",
		"shared/motd.txt":               "hello",
		"apps/kustomization.yaml":       "resources: [cm.yaml, linked-base]\nconfigMapGenerator:\n- name: motd\n  files: [motd.txt]\n",
		"apps/base/kustomization.yaml":  "resources: [svc.yaml]\n",
		"apps/base/svc.yaml":            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n",
		"unrelated/docs/readme.md":      "an escaping link elsewhere does not break the render",
		"apps/.hidden/not-rendered.txt": "x",
	})
	symlink(t, root, "apps/cm.yaml", "../shared/cm.yaml")
	symlink(t, root, "apps/motd.txt", "../shared/motd.txt")
	symlink(t, root, "apps/linked-base", "base")
	symlink(t, root, "unrelated/docs/leak", "../../../outside.txt")
	symlink(t, root, "unrelated/fifo-like", "/dev/null")
	objs, err := buildBoth(t, Options{Root: root, Path: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	want := "ConfigMap/shared Service/svc ConfigMap/motd-"
	if !strings.HasPrefix(strings.Join(got, " "), want) {
		t.Fatalf("got %v, want %s...", got, want)
	}
	assertNoSecret(t, toYAML(t, objs), outsideMarker)
}

func TestRootReachedThroughSymlink(t *testing.T) {
	tmp, root := outsideTree(t, map[string]string{"cm.yaml": configMap})
	link := filepath.Join(tmp, "root-link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	objs, err := buildBoth(t, Options{Root: link})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want 1", len(objs))
	}
}
