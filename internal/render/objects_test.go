package render

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/redact"
)

func TestArtifactRel(t *testing.T) {
	tests := map[string]string{
		"../artifact/apps/cm.yaml": "apps/cm.yaml",
		"../artifact/cm.yaml":      "cm.yaml",
		"../artifact":              "",
		"../artifactual/cm.yaml":   "../artifactual/cm.yaml",
		"apps/cm.yaml":             "apps/cm.yaml",
		"":                         "",
	}
	for in, want := range tests {
		if got := artifactRel(in); got != want {
			t.Errorf("artifactRel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeOrigin(t *testing.T) {
	if got := describeOrigin(""); got != "a generated object" {
		t.Errorf("describeOrigin(\"\") = %q", got)
	}
	if got := describeOrigin("apps/cm.yaml"); got != "apps/cm.yaml" {
		t.Errorf("describeOrigin = %q", got)
	}
}

// withOrigin is a ConfigMap whose origin annotation is origin.
func withOrigin(origin string) *yaml.RNode {
	n := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    keep: \"yes\"\n")
	if origin != "" {
		if err := n.PipeE(yaml.SetAnnotation(originAnnotation, origin)); err != nil {
			panic(err)
		}
	}
	return n
}

func TestTakeOrigin(t *testing.T) {
	tests := []struct {
		name, origin, file string
	}{
		{name: "path", origin: "path: ../artifact/apps/cm.yaml\n", file: "apps/cm.yaml"},
		{name: "generated-object-named-by-its-kustomization", origin: "configuredIn: ../artifact/apps/kustomization.yaml\nconfiguredBy:\n  kind: ConfigMapGenerator\n", file: "apps/kustomization.yaml"},
		{name: "path-wins-over-configured-in", origin: "path: ../artifact/a.yaml\nconfiguredIn: ../artifact/kustomization.yaml\n", file: "a.yaml"},
		{name: "not-yaml", origin: "{{{", file: ""},
		{name: "no-annotation", origin: "", file: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := withOrigin(tt.origin)
			file, err := (&converter{}).takeOrigin(n)
			if err != nil {
				t.Fatal(err)
			}
			if file != tt.file {
				t.Errorf("file = %q, want %q", file, tt.file)
			}
			if diff := cmp.Diff(map[string]string{"keep": "yes"}, n.GetAnnotations()); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTakeOriginClearsEmptyAnnotations(t *testing.T) {
	n := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    " + originAnnotation + ": 'path: ../artifact/cm.yaml'\n")
	if _, err := (&converter{}).takeOrigin(n); err != nil {
		t.Fatal(err)
	}
	if f, _ := n.Pipe(yaml.Lookup("metadata", "annotations")); f != nil {
		t.Errorf("an empty annotations field is left: %s", n.MustString())
	}
}

func TestTakeOriginKeptRelativeToTheRenderedPath(t *testing.T) {
	n := withOrigin("path: ../artifact/apps/base/cm.yaml\nconfiguredIn: ../artifact/apps/base/kustomization.yaml\nrepo: https://example.com/r\n")
	c := &converter{o: Options{Path: "apps/prod"}, keepOrigin: true}
	file, err := c.takeOrigin(n)
	if err != nil {
		t.Fatal(err)
	}
	if file != "apps/base/cm.yaml" {
		t.Errorf("file = %q, want it relative to the artifact root", file)
	}
	var got map[string]any
	if err := yaml.Unmarshal([]byte(n.GetAnnotations()[originAnnotation]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"path": "../base/cm.yaml", "configuredIn": "../base/kustomization.yaml", "repo": "https://example.com/r"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kept origin (-want +got):\n%s", diff)
	}
}

func TestConverterRefusesObjectsWithoutIdentity(t *testing.T) {
	tests := []struct {
		name, doc string
	}{
		{"no-api-version", "kind: ConfigMap\nmetadata:\n  name: c\n"},
		{"no-name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"},
		{"empty-name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&converter{}).unstructured(yaml.MustParse(tt.doc))
			if !errors.Is(err, ErrInvalidYAML) {
				t.Errorf("got %v, want ErrInvalidYAML", err)
			}
		})
	}
	u, err := (&converter{}).unstructured(yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  n: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Object["data"].(map[string]any)["n"]; got != int64(3) {
		t.Errorf("a number is %T %v, want int64 3 as the apimachinery expects", got, got)
	}
}

func TestConverterUnique(t *testing.T) {
	c := &converter{seen: map[objectKey]string{}}
	convert := func(doc, origin string) error {
		u, err := c.unstructured(yaml.MustParse(doc))
		if err != nil {
			t.Fatal(err)
		}
		return c.unique(u, origin)
	}
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
	if err := convert(deploy, "a.yaml"); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: other\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n",
		"apiVersion: example.com/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n",
	} {
		if err := convert(other, "b.yaml"); err != nil {
			t.Errorf("%v for an object that differs in namespace, kind or group", err)
		}
	}
	err := convert(strings.Replace(deploy, "apps/v1", "apps/v1beta2", 1), "")
	var re *Error
	if !errors.Is(err, ErrDuplicate) || !errors.As(err, &re) {
		t.Fatalf("got %v, want an *Error wrapping ErrDuplicate", err)
	}
	if re.Object != "Deployment.apps shop/web" || re.Path != "" {
		t.Errorf("object %q path %q, want Deployment.apps shop/web and no path", re.Object, re.Path)
	}
	if !strings.Contains(err.Error(), "in a.yaml and in a generated object") {
		t.Errorf("message does not name both origins: %v", err)
	}
}

func TestToObjectsHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := &guard{}
	_, err := toObjects(ctx, []*yaml.RNode{yaml.MustParse(configMap)}, Options{Path: "apps"}, g)
	var re *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Path != "apps" {
		t.Errorf("got %v, want an *Error at apps wrapping context.Canceled", err)
	}
	objs, err := toObjects(context.Background(), nil, Options{}, g)
	if err != nil || objs == nil || len(objs) != 0 {
		t.Errorf("no nodes gave %#v, %v; want an empty, non-nil slice", objs, err)
	}
}

func TestSummarizeObjects(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "no-json", in: "plain message", want: "plain message"},
		{name: "cluster-scoped-object", in: `x {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}} y`, want: "x <Namespace n> y"},
		{name: "two-objects", in: `[{"kind":"A","metadata":{"name":"a"}} {"kind":"B","metadata":{"name":"b","namespace":"s"}}]`, want: "[<A a> <B s/b>]"},
		{name: "json-that-is-not-an-object-kept", in: `map {"key":"value"} end`, want: `map {"key":"value"} end`},
		{name: "unclosed-json-kept", in: `start {"kind":"Secret","data":{"k":"v"`, want: `start {"kind":"Secret","data":{"k":"v"`},
		{name: "object-after-broken-json", in: `{"a {"kind":"X","metadata":{"name":"x"}}`, want: `{"a <X x>`},
		{name: "nested-secret-values-hidden", in: `got {"kind":"Secret","metadata":{"name":"s"},"stringData":{"p":"hunter2"}}`, want: "got <Secret s>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarizeObjects(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestKustomizeErrorDuplicateForms(t *testing.T) {
	for _, raw := range []string{
		"may not add resource with an already registered id: ConfigMap.v1.[noGrp]/cm.ns",
		"namespace transformation produces ID conflict: [...]",
	} {
		err := kustomizeError("apps", errors.New(raw), redact.New())
		if !errors.Is(err, ErrDuplicate) || !errors.Is(err, ErrKustomize) {
			t.Errorf("%q: got %v, want ErrKustomize and ErrDuplicate", raw, err)
		}
		if !strings.Contains(err.Error(), "give them different names") {
			t.Errorf("%q: the message says nothing to do: %v", raw, err)
		}
	}
	err := kustomizeError("apps", context.Canceled, nil)
	var re *Error
	if !errors.As(err, &re) || re.Path != "apps" || !errors.Is(err, context.Canceled) || errors.Is(err, ErrKustomize) {
		t.Errorf("a cancelled build is reported as %v", err)
	}
}

func TestKustomizeErrorPaths(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{raw: "in /artifact: bad", want: "in .: bad"},
		{raw: "file /artifact/a/b.yaml bad", want: "file a/b.yaml bad"},
		{raw: "in /flotilla-stack: bad", want: "in (stack options): bad"},
	}
	for _, tt := range tests {
		err := kustomizeError(".", errors.New(tt.raw), nil)
		if want := "render .: kustomize build failed: " + tt.want; err.Error() != want {
			t.Errorf("kustomizeError(%q) = %q, want %q", tt.raw, err.Error(), want)
		}
	}
}
