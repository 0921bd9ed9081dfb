package render

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/kustomize/api/types"
)

func TestNormalizeFillsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{
			name: "zero-limits-become-defaults",
			in:   Options{Root: "/srv/artifact"},
			want: Options{Root: "/srv/artifact", Path: ".", MaxFileSize: DefaultMaxFileSize, MaxTotalSize: DefaultMaxTotalSize},
		},
		{
			name: "negative-limits-become-defaults",
			in:   Options{Root: "/srv/artifact", MaxFileSize: -1, MaxTotalSize: -5},
			want: Options{Root: "/srv/artifact", Path: ".", MaxFileSize: DefaultMaxFileSize, MaxTotalSize: DefaultMaxTotalSize},
		},
		{
			name: "limits-kept-and-path-cleaned",
			in:   Options{Root: "/srv/artifact", Path: "./clusters//prod/", MaxFileSize: 1, MaxTotalSize: 2},
			want: Options{Root: "/srv/artifact", Path: "clusters/prod", MaxFileSize: 1, MaxTotalSize: 2},
		},
		{
			name: "other-options-untouched",
			in:   Options{Root: "/r", TargetNamespace: "ns", CommonLabels: map[string]string{"a": "b"}, Substitute: map[string]string{}},
			want: Options{Root: "/r", Path: ".", TargetNamespace: "ns", CommonLabels: map[string]string{"a": "b"}, Substitute: map[string]string{},
				MaxFileSize: DefaultMaxFileSize, MaxTotalSize: DefaultMaxTotalSize},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.normalize()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Options{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		is   error
		path string
		msg  string
	}{
		{name: "empty-root", in: Options{}, is: ErrInvalidOptions, msg: `render invalid render options: Root "" must be an absolute path`},
		{name: "relative-root", in: Options{Root: "artifact"}, is: ErrInvalidOptions, msg: `Root "artifact" must be an absolute path`},
		{name: "absolute-path", in: Options{Root: "/r", Path: "/etc"}, is: ErrOutsideRoot, path: "/etc", msg: "must be relative to the artifact root"},
		{name: "backslash-path", in: Options{Root: "/r", Path: `\share`}, is: ErrOutsideRoot, path: `\share`, msg: "not absolute"},
		{name: "climbing-path", in: Options{Root: "/r", Path: "a/../../b"}, is: ErrOutsideRoot, path: "a/../../b", msg: "climbs out of the artifact root"},
		{name: "second-patch-named", in: Options{Root: "/r", Patches: []Patch{
			{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
			{Patch: "# only a comment\n"},
		}}, is: ErrInvalidOptions, msg: "the Stack's patches[1] is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.in.normalize()
			var re *Error
			if !errors.Is(err, tt.is) || !errors.As(err, &re) {
				t.Fatalf("got %v, want an *Error wrapping %v", err, tt.is)
			}
			if re.Path != tt.path {
				t.Errorf("path = %q, want %q", re.Path, tt.path)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestCheckPatches(t *testing.T) {
	target := &Selector{Kind: "ConfigMap"}
	tests := []struct {
		name    string
		patches []Patch
		msg     string // "" when the patches are accepted
	}{
		{name: "none"},
		{name: "strategic-merge-without-target", patches: []Patch{{Patch: "kind: ConfigMap\nmetadata: {name: a}\n"}}},
		{name: "json6902-with-target", patches: []Patch{{Patch: "- op: remove\n  path: /data\n", Target: target}}},
		{name: "json6902-in-flow-style-without-target", patches: []Patch{{Patch: `[{"op": "remove", "path": "/data"}]`}}, msg: "patches[0] is a JSON6902 patch: give it a target"},
		{name: "several-documents-first-decides", patches: []Patch{{Patch: "---\nkind: ConfigMap\nmetadata: {name: a}\n---\n- op: remove\n  path: /x\n"}}},
		{name: "empty-document-separators-only", patches: []Patch{{Patch: "---\n---\n"}}, msg: "patches[0] is empty"},
		{name: "null-document", patches: []Patch{{Patch: "~\n"}}, msg: "patches[0] is empty"},
		{name: "empty-documents-before-a-patch", patches: []Patch{{Patch: "---\n---\nkind: ConfigMap\nmetadata: {name: a}\n"}}},
		{name: "scalar", patches: []Patch{{Patch: "42\n"}}, msg: "patches[0] is not a patch"},
		{name: "unterminated-flow", patches: []Patch{{Patch: "kind: [ConfigMap\n"}}, msg: "patches[0] is not valid YAML"},
		{name: "third-patch-bad", patches: []Patch{
			{Patch: "kind: A\n"}, {Patch: "kind: B\n"}, {Patch: "- op: add\n  path: /x\n  value: 1\n"},
		}, msg: "patches[2] is a JSON6902 patch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPatches(tt.patches)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("got %v, want the patches accepted", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want ErrInvalidOptions containing %q", err, tt.msg)
			}
		})
	}
}

func TestYAMLDocuments(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"# comment\n", 0},
		{"a: 1\n", 1},
		{"a: 1\n---\nb: 2\n", 2},
		{"---\na: 1\n---\n", 1},
		{"---\n---\n", 0},
		{"~\n---\nnull\n", 0},
		{"- x\n---\n[y]\n", 2},
	}
	for _, tt := range tests {
		docs, err := yamlDocuments(tt.in)
		if err != nil || len(docs) != tt.want {
			t.Errorf("yamlDocuments(%q) = %d documents, %v; want %d", tt.in, len(docs), err, tt.want)
		}
	}
}

func TestOverlayConversions(t *testing.T) {
	if got := overlayImages(nil); got != nil {
		t.Errorf("overlayImages(nil) = %v, want nil (no images: field)", got)
	}
	if got := overlayPatches(nil); got != nil {
		t.Errorf("overlayPatches(nil) = %v, want nil (no patches: field)", got)
	}
	images := overlayImages([]Image{{Name: "nginx", NewName: "mirror/nginx", NewTag: "1.27", Digest: "sha256:ab"}})
	if diff := cmp.Diff([]types.Image{{Name: "nginx", NewName: "mirror/nginx", NewTag: "1.27", Digest: "sha256:ab"}}, images); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	patches := overlayPatches([]Patch{
		{Patch: "p1"},
		{Patch: "p2", Target: &Selector{Group: "apps", Version: "v1", Kind: "Deployment", Name: "web", Namespace: "shop",
			LabelSelector: "tier=front", AnnotationSelector: "team=a"}},
	})
	if len(patches) != 2 || patches[0].Patch != "p1" || patches[0].Target != nil {
		t.Fatalf("patches = %+v", patches)
	}
	sel := patches[1].Target
	got := []string{sel.Group, sel.Version, sel.Kind, sel.Name, sel.Namespace, sel.LabelSelector, sel.AnnotationSelector}
	if diff := cmp.Diff([]string{"apps", "v1", "Deployment", "web", "shop", "tier=front", "team=a"}, got); diff != "" {
		t.Errorf("target (-want +got):\n%s", diff)
	}
}

// overlayOf writes the overlay of o for an empty tree and returns it.
func overlayOf(t *testing.T, o Options, buildMetadata []string) string {
	t.Helper()
	tr := mustLoad(t, t.TempDir(), unlimited)
	if err := tr.writeOverlay(o, buildMetadata); err != nil {
		t.Fatal(err)
	}
	data, err := tr.fs.ReadFile(filepath.Join(overlayDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWriteOverlay(t *testing.T) {
	t.Run("no-options", func(t *testing.T) {
		want := "apiVersion: kustomize.config.k8s.io/v1beta1\nbuildMetadata:\n- originAnnotations\nkind: Kustomization\nresources:\n- ../artifact/clusters/prod\n"
		if diff := cmp.Diff(want, overlayOf(t, Options{Path: "clusters/prod"}, nil)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("every-option", func(t *testing.T) {
		o := Options{
			Path:              ".",
			TargetNamespace:   "tenant",
			CommonLabels:      map[string]string{"team": "a"},
			CommonAnnotations: map[string]string{"owner": "b"},
			Images:            []Image{{Name: "nginx", NewTag: "1.27"}},
			Patches:           []Patch{{Patch: "- op: remove\n  path: /data\n", Target: &Selector{Kind: "ConfigMap"}}},
		}
		want := `apiVersion: kustomize.config.k8s.io/v1beta1
buildMetadata:
- originAnnotations
commonAnnotations:
  owner: b
images:
- name: nginx
  newTag: "1.27"
kind: Kustomization
labels:
- pairs:
    team: a
namespace: tenant
patches:
- patch: |
    - op: remove
      path: /data
  target:
    kind: ConfigMap
resources:
- ../artifact
`
		if diff := cmp.Diff(want, overlayOf(t, o, nil)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("root-build-metadata-carried-without-duplicate", func(t *testing.T) {
		root := []string{types.ManagedByLabelOption, types.OriginAnnotations}
		got := overlayOf(t, Options{Path: "."}, root)
		want := "buildMetadata:\n- managedByLabel\n- originAnnotations\n"
		if !strings.Contains(got, want) {
			t.Errorf("overlay:\n%s\nwant it to contain\n%s", got, want)
		}
	})
	t.Run("root-build-metadata-not-changed", func(t *testing.T) {
		root := make([]string, 1, 4)
		root[0] = types.ManagedByLabelOption
		overlayOf(t, Options{Path: "."}, root)
		if diff := cmp.Diff([]string{types.ManagedByLabelOption}, root, cmpopts.EquateEmpty()); diff != "" || cap(root) != 4 {
			t.Errorf("the root kustomization's buildMetadata changed (-want +got):\n%s", diff)
		}
		if got := root[:2][1]; got != "" {
			t.Errorf("writeOverlay appended %q into the caller's backing array", got)
		}
	})
}

func TestStackOptionsEndToEnd(t *testing.T) {
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: original}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
`
	role := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n"
	tree := map[string]string{"stack/deployment.yaml": deployment, "stack/role.yaml": role}
	tests := []struct {
		name  string
		opts  func(o *Options)
		check map[string]string // field path in the Deployment or ClusterRole -> value; "<none>" for absent
	}{
		{
			name: "labels-override-and-stay-off-selectors-and-templates",
			opts: func(o *Options) { o.CommonLabels = map[string]string{"team": "stack"} },
			check: map[string]string{
				"Deployment metadata.labels.team":                   "stack",
				"Deployment spec.selector.matchLabels.team":         "<none>",
				"Deployment spec.template.metadata.labels.team":     "<none>",
				"ClusterRole metadata.labels.team":                  "stack",
				"Deployment spec.template.metadata.labels.app":      "web",
				"Deployment spec.selector.matchLabels.app":          "web",
				"Deployment spec.template.spec.containers[0].image": "nginx:1.25",
			},
		},
		{
			name: "annotations-reach-pod-templates",
			opts: func(o *Options) { o.CommonAnnotations = map[string]string{"owner": "platform"} },
			check: map[string]string{
				"Deployment metadata.annotations.owner":               "platform",
				"Deployment spec.template.metadata.annotations.owner": "platform",
				"ClusterRole metadata.annotations.owner":              "platform",
			},
		},
		{
			name: "target-namespace-leaves-cluster-scoped-objects",
			opts: func(o *Options) { o.TargetNamespace = "tenant" },
			check: map[string]string{
				"Deployment metadata.namespace":  "tenant",
				"ClusterRole metadata.namespace": "<none>",
			},
		},
		{
			name: "labels-substituted-after-the-build",
			opts: func(o *Options) {
				o.CommonLabels = map[string]string{"env": "${ENV}"}
				o.Substitute = map[string]string{"ENV": "prod"}
			},
			check: map[string]string{
				"Deployment metadata.labels.env":  "prod",
				"ClusterRole metadata.labels.env": "prod",
			},
		},
		{
			name: "target-namespace-from-a-variable",
			opts: func(o *Options) {
				o.TargetNamespace = "${NS:=fallback}"
				o.Substitute = map[string]string{}
			},
			check: map[string]string{"Deployment metadata.namespace": "fallback"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Root: writeTree(t, tree), Path: "stack"}
			tt.opts(&o)
			objs, err := buildBoth(t, o)
			if err != nil {
				t.Fatal(err)
			}
			for where, want := range tt.check {
				kind, field, _ := strings.Cut(where, " ")
				u := find(objs, kind, map[string]string{"Deployment": "web", "ClusterRole": "reader"}[kind])
				if u == nil {
					t.Fatalf("no %s in\n%s", kind, toYAML(t, objs))
				}
				if got := fieldValue(u.Object, field); got != want {
					t.Errorf("%s = %q, want %q", where, got, want)
				}
			}
		})
	}
}

// fieldValue follows a dotted path with [i] list indexes through obj and
// returns the string value there, or "<none>".
func fieldValue(obj map[string]any, path string) string {
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		name, index, isList := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return "<none>"
		}
		if cur, ok = m[name]; !ok {
			return "<none>"
		}
		if isList {
			l, ok := cur.([]any)
			i := int(index[0] - '0')
			if !ok || i >= len(l) {
				return "<none>"
			}
			cur = l[i]
		}
	}
	if s, ok := cur.(string); ok {
		return s
	}
	return "<none>"
}

func TestBuildRefusesOptionsBeforeReadingTheTree(t *testing.T) {
	// The root does not exist: the options are checked first, so the
	// error is about them and not about the missing directory.
	_, err := Build(context.Background(), Options{Root: "/does/not/exist", Path: "../x"})
	if !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("got %v, want ErrOutsideRoot", err)
	}
	_, err = Build(context.Background(), Options{Root: "/does/not/exist", Patches: []Patch{{Patch: ""}}})
	if !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("got %v, want ErrInvalidOptions", err)
	}
	_, err = Build(context.Background(), Options{Root: "/does/not/exist"})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound for the missing root", err)
	}
}

// A Stack patch that is no patch at all is refused as the Stack's, not
// ignored (an empty document) or left to kustomize, whose message names
// neither the Stack nor the patch.
func TestBuildRefusesStackPatchesThatAreNotPatches(t *testing.T) {
	for name, patch := range map[string]string{"document-separator": "---\n", "null": "null\n", "number": "42\n", "string": "replicas\n"} {
		t.Run(name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"cm.yaml": configMap})
			objs, err := Build(context.Background(), Options{Root: root, Patches: []Patch{{Patch: patch}}})
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "patches[0]") {
				t.Errorf("got %d objects and %v, want ErrInvalidOptions naming patches[0]", len(objs), err)
			}
		})
	}
}
