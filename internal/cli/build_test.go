package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// Planted values: they must appear in no output, in clear or in base64.
const (
	// markerInManifest is a Secret value written in the repository.
	markerInManifest = "planted-marker-in-manifest"
	// markerSubstituted is a value of a substituteFrom Secret.
	markerSubstituted = "planted-marker-substituted"
)

// assertNoMarker fails when out holds marker, in clear or in base64.
func assertNoMarker(t *testing.T, out string, markers ...string) {
	t.Helper()
	for _, m := range markers {
		for _, form := range []string{m, base64.StdEncoding.EncodeToString([]byte(m)), base64.RawStdEncoding.EncodeToString([]byte(m))} {
			if strings.Contains(out, form) {
				t.Errorf("the output holds the planted value %q as %q:\n%s", m, form, out)
			}
		}
	}
}

// streams returns Streams writing to out.
func streams(out *bytes.Buffer) Streams {
	return Streams{In: strings.NewReader(""), Out: out, ErrOut: &bytes.Buffer{}}
}

// fixtureBuild renders testdata/build/overlay as a cluster would.
func fixtureBuild(output string) BuildOptions {
	return BuildOptions{
		Path: filepath.Join("testdata", "build", "overlay"), Root: filepath.Join("testdata", "build"),
		Vars: []string{"REGION=eu-west"}, TargetNamespace: "shop", Output: output,
	}
}

func TestBuildGolden(t *testing.T) {
	for _, format := range []string{OutputYAML, OutputJSON} {
		t.Run(format, func(t *testing.T) {
			o := fixtureBuild(format)
			var out bytes.Buffer
			if err := o.Run(t.Context(), streams(&out)); err != nil {
				t.Fatal(err)
			}
			golden(t, "build-overlay."+format+".golden", out.String())
			assertNoMarker(t, out.String(), markerInManifest)
		})
	}
}

func TestBuildJSONIsAList(t *testing.T) {
	o := fixtureBuild(OutputJSON)
	var out bytes.Buffer
	if err := o.Run(t.Context(), streams(&out)); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || list.Kind != "List" || len(list.Items) != 3 {
		t.Errorf("json = %s (%v), want a List of 3 items", out.String(), err)
	}
}

func TestBuildWithoutVarsLeavesVariables(t *testing.T) {
	o := fixtureBuild(OutputYAML)
	o.Vars = nil
	var out bytes.Buffer
	if err := o.Run(t.Context(), streams(&out)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "region: ${REGION}") {
		t.Errorf("without --var, ${REGION} should stay as written:\n%s", out.String())
	}
}

func TestBuildErrorNamesTheFileAndLine(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"kustomization.yaml":        "resources:\n  - configmap-bad-indent.yaml\n",
		"configmap-bad-indent.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: {}\n",
	})
	o := BuildOptions{Path: dir, Output: OutputYAML}
	err := o.Run(t.Context(), streams(&bytes.Buffer{}))
	var re *render.Error
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "configmap-bad-indent.yaml:") {
		t.Fatalf("err = %v, want a *render.Error naming configmap-bad-indent.yaml and its line", err)
	}
}

func TestBuildRefusesBadArguments(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"build"}, `required flag(s) "path" not set`},
		{"a var without =", []string{"build", "--path", ".", "--var", "REGION"}, `--var "REGION": write it as NAME=value`},
		{"unknown output", []string{"build", "--path", ".", "-o", "table"}, `unknown output format "table": use yaml or json`},
		{"path not a directory", []string{"build", "--path", "/nonexistent/dir"}, "--path /nonexistent/dir: not a directory"},
		{"path outside root", []string{"build", "--path", "testdata", "--root", "testdata/build"}, "is not inside --root"},
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

func TestBuildRootIsTheGitWorkTree(t *testing.T) {
	repo := t.TempDir()
	writeFiles(t, repo, map[string]string{".git/HEAD": "ref: refs/heads/main\n", "apps/overlay/kustomization.yaml": ""})
	root, rel, err := buildRoot(filepath.Join(repo, "apps", "overlay"), "")
	if err != nil || root != repo || rel != filepath.Join("apps", "overlay") {
		t.Errorf("buildRoot = %q, %q, %v; want %q, apps/overlay", root, rel, err, repo)
	}
	plain := t.TempDir()
	if root, rel, err := buildRoot(plain, ""); err != nil || root != plain || rel != "." {
		t.Errorf("outside a work tree buildRoot = %q, %q, %v; want the directory itself", root, rel, err)
	}
}

// copyWithoutGit writes a repository without .git whose staging overlay
// uses a base above it, and returns its directory.
func copyWithoutGit(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"apps/base/kustomization.yaml":             "resources:\n  - settings.yaml\n",
		"apps/base/settings.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  cluster: ${CLUSTER_NAME}\n",
		"apps/overlays/staging/kustomization.yaml": "resources:\n  - ../../base\n",
	})
	return dir
}

func TestBuildOutsideAGitWorkTreeRootsAtTheCurrentDirectory(t *testing.T) {
	dir := copyWithoutGit(t)
	t.Chdir(dir)
	o := BuildOptions{Path: filepath.Join("apps", "overlays", "staging"), Output: OutputYAML}
	var out bytes.Buffer
	if err := o.Run(t.Context(), streams(&out)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "name: settings") {
		t.Errorf("output lacks the base's ConfigMap:\n%s", out.String())
	}
}

func TestBuildErrorsNameTheCLIsFix(t *testing.T) {
	dir := copyWithoutGit(t)
	cases := []struct {
		name string
		o    BuildOptions
		want string
	}{
		{"a base above a directory outside the current one",
			BuildOptions{Path: filepath.Join(dir, "apps", "overlays", "staging")},
			"pass --root with the repository root"},
		{"a variable without a value",
			BuildOptions{Path: filepath.Join(dir, "apps", "base"), Vars: []string{"OTHER=x"}},
			"with build --path, give it with --var CLUSTER_NAME=value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Output = OutputYAML
			err := tc.o.Run(t.Context(), streams(&bytes.Buffer{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// writeFiles writes files (path relative to dir: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newStack returns a Stack of the fixture repository: prune on, the given
// path and target namespace, TOKEN substituted from the Secret "variables".
func newStack(namespace, name, path, target string) *v1alpha1.Stack {
	return &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef:       v1alpha1.SourceReference{Kind: "GitRepository", Name: "fleet"},
			Interval:        metav1.Duration{Duration: time.Minute},
			Prune:           true,
			Path:            path,
			TargetNamespace: target,
			PostBuild: &v1alpha1.PostBuild{
				Substitute:     map[string]string{"REGION": "eu-west"},
				SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "Secret", Name: "variables"}},
			},
		},
	}
}

// createNamespaces creates namespaces of the given names on the shared
// control plane; names are the test's own.
func createNamespaces(t *testing.T, names ...string) {
	t.Helper()
	controlplane.Require(t, env)
	for _, n := range names {
		if err := env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatalf("creating namespace %s: %v", n, err)
		}
	}
}

// createVariables creates the Secret "variables" with TOKEN set to the
// planted value, in namespace.
func createVariables(t *testing.T, namespace string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "variables"},
		Data: map[string][]byte{"TOKEN": []byte(markerSubstituted)}}
	if err := env.Client.Create(t.Context(), s); err != nil {
		t.Fatalf("creating Secret variables: %v", err)
	}
}

func TestBuildStack(t *testing.T) {
	createNamespaces(t, "cli-build-stack")
	createVariables(t, "cli-build-stack")
	if err := env.Client.Create(t.Context(), newStack("cli-build-stack", "apps", "./overlay", "shop")); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{OutputYAML, OutputJSON} {
		t.Run(format, func(t *testing.T) {
			o := BuildStackOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: "cli-build-stack"},
				Stack: "apps", Path: filepath.Join("testdata", "build"), Output: format}
			var out bytes.Buffer
			if err := o.Run(t.Context(), streams(&out)); err != nil {
				t.Fatal(err)
			}
			golden(t, "build-stack."+format+".golden", out.String())
			assertNoMarker(t, out.String(), markerInManifest, markerSubstituted)
		})
	}
}

func TestBuildStackErrors(t *testing.T) {
	createNamespaces(t, "cli-build-stack-errors")
	ns := "cli-build-stack-errors"
	if err := env.Client.Create(t.Context(), newStack(ns, "no-variables", "./overlay", "")); err != nil {
		t.Fatal(err)
	}
	elsewhere := newStack(ns, "elsewhere", "./clusters/staging", "")
	elsewhere.Spec.PostBuild = nil
	if err := env.Client.Create(t.Context(), elsewhere); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, stack, want string
	}{
		{"a mistyped name", "no-variablez", "Stack " + ns + "/no-variablez not found; did you mean no-variables?"},
		{"a missing substituteFrom Secret", "no-variables", "postBuild.substituteFrom Secret " + ns + "/variables: not found"},
		{"a path not in the checkout", "elsewhere", "check the Stack's path or --path (the root of a local checkout of the repository, or the Stack's own directory in it)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := BuildStackOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: ns},
				Stack: tc.stack, Path: filepath.Join("testdata", "build"), Output: OutputYAML}
			err := o.Run(t.Context(), streams(&bytes.Buffer{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBuildMasksOnlySecretValues(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings"},
		"data": map[string]any{
			"written":     "https://bob:OTHERPASS@example.com/x",
			"substituted": "https://user:" + markerSubstituted + "@example.com/x",
		}}}
	var out bytes.Buffer
	if err := printObjects(&out, OutputYAML, []*unstructured.Unstructured{cm}, redact.New(markerSubstituted)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  written: https://bob:OTHERPASS@example.com/x\n", "  substituted: https://user:*****@example.com/x\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, out.String())
		}
	}
	assertNoMarker(t, out.String(), markerSubstituted)
}
