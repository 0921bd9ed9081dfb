package render

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixture is the absolute path of testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTree writes files (slash-separated path -> content) below a new
// temporary directory and returns it.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// toYAML renders objects as one multi-document YAML text.
func toYAML(t testing.TB, objs []*unstructured.Unstructured) string {
	t.Helper()
	var b strings.Builder
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.String()
}

// checkGolden compares got with testdata/golden/name.yaml, or rewrites it
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name+".yaml")
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", p, diff)
	}
}

// assertNoSecret fails if any secret appears in text, in clear or in base64.
func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
			if strings.Contains(text, form) {
				t.Errorf("secret %q appears in %q", s, text)
			}
		}
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"plain-directory", Options{Root: fixture(t, "plain-directory")}},
		{"fleet-overlay-with-parent-bases", Options{Root: fixture(t, "fleet"), Path: "clusters/prod"}},
		{"fleet-overlay-with-legacy-bases-field", Options{Root: fixture(t, "fleet"), Path: "./clusters/staging/"}},
		{"components", Options{Root: fixture(t, "components"), Path: "overlay"}},
		{"generators", Options{Root: fixture(t, "generators")}},
		{"target-namespace", Options{Root: fixture(t, "stack-options"), TargetNamespace: "team-a"}},
		{"common-labels-and-annotations", Options{
			Root:              fixture(t, "stack-options"),
			CommonLabels:      map[string]string{"team": "checkout"},
			CommonAnnotations: map[string]string{"flotilla.io/owner": "platform"},
		}},
		{"patches-with-target-selectors", Options{Root: fixture(t, "stack-options"), Patches: stackPatches}},
		{"images", Options{Root: fixture(t, "stack-options"), Images: []Image{
			{Name: "nginx", NewTag: "1.28"},
			{Name: "ghcr.io/example/proxy", NewName: "registry.example.com/proxy", Digest: "sha256:" + strings.Repeat("ab", 32)},
		}}},
		{"substitution", Options{Root: fixture(t, "substitution"), Substitute: substitutionVars}},
		{"substitution-off-without-variables", Options{Root: fixture(t, "substitution"), Substitute: nil}},
		{"origin-annotations-kept-when-asked", Options{Root: fixture(t, "origin-annotations"), Path: "clusters/prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := buildBoth(t, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range objs {
				if o == nil || len(o.Object) == 0 {
					t.Fatalf("object %d is empty", i)
				}
			}
			checkGolden(t, tt.name, toYAML(t, objs))
		})
	}
}

// stackPatches exercise every kind of target selector.
var stackPatches = []Patch{
	{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"},
	{
		Patch:  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: any\n  annotations:\n    tier-patched: backend\n",
		Target: &Selector{Kind: "Deployment", LabelSelector: "tier=backend"},
	},
	{
		Patch:  "- op: add\n  path: /spec/ports/-\n  value: {name: metrics, port: 9090}\n",
		Target: &Selector{Version: "v1", Kind: "Service", Name: "web"},
	},
	{
		Patch:  "- op: add\n  path: /rules/-\n  value: {apiGroups: [\"\"], resources: [secrets], verbs: [list]}\n",
		Target: &Selector{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
	},
	{
		Patch:  "- op: replace\n  path: /spec/replicas\n  value: 2\n",
		Target: &Selector{Group: "apps", Kind: "Deployment", Namespace: "jobs", Name: "worker"},
	},
}

var substitutionVars = map[string]string{
	"ENV":          "prod",
	"REPLICAS":     "4",
	"VERBOSE":      "true",
	"ENABLED":      "false",
	"YAML_LOOKING": "injected: true\nreplicas: 100",
	"LIST_LOOKING": "[a, b]",
	"MULTILINE":    "line one\nline two",
}

func TestBuildReturnsEmptyForEmptyDirectory(t *testing.T) {
	root := writeTree(t, map[string]string{"apps/README.md": "nothing to render"})
	objs, err := buildBoth(t, Options{Root: root, Path: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	if objs == nil || len(objs) != 0 {
		t.Fatalf("got %v, want an empty, non-nil slice", objs)
	}
}

func TestBuildHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, Options{Root: fixture(t, "fleet"), Path: "clusters/prod"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("got %T, want *Error", err)
	}
}

func TestBuildIsRepeatable(t *testing.T) {
	opts := Options{Root: fixture(t, "fleet"), Path: "clusters/prod", Substitute: map[string]string{"X": "y"}}
	first, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := Build(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(toYAML(t, first), toYAML(t, again)); diff != "" {
			t.Fatalf("a second build differs:\n%s", diff)
		}
	}
}

func TestBuildConcurrently(t *testing.T) {
	opts := Options{Root: fixture(t, "generators")}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := Build(context.Background(), opts)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
