package fleet

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
	"github.com/flotilla-io/flotilla/internal/render"
)

// TestSharedRendersLikeItsOwn renders every Stack of every cluster of the
// fleets through the plan's renderer, whose Stacks with variables are made
// from a shared render, and on its own with render.Build: the objects must
// be the same.
func TestSharedRendersLikeItsOwn(t *testing.T) {
	fleets := map[string]map[string]string{
		"examples/fleet": exampleFleet(t),
		"generated":      fleettest.Files(fleettest.Options{Clusters: 4, Objects: 40}),
	}
	for name, files := range fleets {
		t.Run(name, func(t *testing.T) {
			dir := repoWith(t, files, nil)
			r, err := OpenRepo(dir)
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.WorktreeSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			p := &planner{o: DefaultOptions(s, s).withDefaults(), r: newRenderer(t.TempDir())}
			for _, cluster := range s.Clusters() {
				root := p.renderRoot(t.Context(), s, cluster)
				stacks, err := stacksOf(root.objs)
				if err != nil || !root.ok() {
					t.Fatalf("cluster %s: root %s %v", cluster, root.reason, err)
				}
				for _, st := range stacks {
					sd := p.prepareStack(t.Context(), s, st, root.objs)
					p.run(t.Context(), &sd)
					opts := sd.job.opts
					opts.Root = dir
					want, err := render.Build(t.Context(), opts)
					if err != nil || sd.err != nil {
						t.Fatalf("%s/%s: render.Build: %v; plan: %v", cluster, st.Name, err, sd.err)
					}
					if diff := cmp.Diff(want, sd.objs); diff != "" {
						t.Errorf("%s/%s: the plan's render differs (-render.Build +plan):\n%s", cluster, st.Name, diff)
					}
				}
			}
			if p.r.substituted.Load() == 0 {
				t.Errorf("renders: %d built, %d substituted: no Stack was made from a shared render", p.r.builds.Load(), p.r.substituted.Load())
			}
		})
	}
}

// renderBoth renders path of files with vars through a plan's renderer
// and on its own with render.Build.
func renderBoth(t *testing.T, files map[string]string, path string, vars map[string]string) (shared, own []*unstructured.Unstructured, sharedErr, ownErr error, substituted bool) {
	t.Helper()
	s := newSnapshot("test")
	for p, content := range files {
		s.add(p, filemode.Regular, plumbing.ComputeHash(plumbing.BlobObject, []byte(content)), []byte(content))
	}
	s.index()
	dir := t.TempDir()
	if err := fleettest.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	opts := render.Options{Path: path, Substitute: vars}
	r := newRenderer(t.TempDir())
	shared, sharedErr = r.render(t.Context(), r.prepare(s, opts))
	opts.Root = dir
	own, ownErr = render.Build(t.Context(), opts)
	return shared, own, sharedErr, ownErr, r.substituted.Load() > 0
}

// sharedCases are objects and values where a shared render may or may not
// hold the values; the plan's renderer must render each like render.Build.
var sharedCases = []struct {
	name, doc, a, b string
	shared          bool // whether the render is made from the shared one
}{
	{"strings", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-${A}\n  namespace: ${B}\n  labels:\n    ${A}: x\ndata:\n  a: ${A}\n  ab: ${A}-${B}\n  quoted: \"${B}\"\n  default: ${C:=fallback}\n  escaped: $${A}\n", "one", "two", true},
	{"sequences and blocks", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    args:\n    - \"${A}\"\n    - --flag=${B}\n    - plain\n    command:\n    - |\n      echo ${A}\n      echo ${B}\n", "x y", "a: b", true},
	{"a value holding an expression is not expanded again", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A}\n", "${B}", "b", true},
	{"multi-line value", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A}\n", "line 1\nline 2", "", true},
	{"substitution disabled", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    flotilla.io/substitute: disabled\ndata:\n  a: ${A}\n", "x", "y", true},
	{"a number", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: ${A}\n", "3", "", false},
	{"a boolean", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A}\n", "true", "", false},
	{"null", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A}\n", "~", "", false},
	{"a quoted number", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"${A}\"\n", "42", "", false},
	{"keys made equal", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ${A}: x\n  ${B}: y\n", "k", "k", false},
	{"a key made equal to another", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: x\n  ${A}: y\n", "k", "", false},
	{"objects made equal", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-${A}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-x\n", "x", "", false},
	{"a name made empty", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${A}\n", "", "", false},
	{"a value that is not text", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A}\n", "\xff\xfe", "", false},
	{"an undefined variable", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A}${UNDEFINED}\n", "x", "", false},
	{"a malformed expression", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${A\n", "x", "", false},
}

// sharedFiles is a kustomization holding doc.
func sharedFiles(doc string) map[string]string {
	return map[string]string{"app/kustomization.yaml": "resources:\n- objects.yaml\n", "app/objects.yaml": doc}
}

// checkSharedRender fails unless the plan's renderer and render.Build
// agree on doc with the values a and b: the same objects, or the same error.
func checkSharedRender(t *testing.T, doc, a, b string) (substituted bool) {
	t.Helper()
	shared, own, sharedErr, ownErr, substituted := renderBoth(t, sharedFiles(doc), "app", map[string]string{"A": a, "B": b})
	switch {
	case ownErr != nil && (sharedErr == nil || sharedErr.Error() != ownErr.Error()):
		t.Fatalf("render.Build fails with %q; the plan's renderer gives %v", ownErr, sharedErr)
	case ownErr == nil && sharedErr != nil:
		t.Fatalf("render.Build renders; the plan's renderer fails with %v", sharedErr)
	}
	if diff := cmp.Diff(own, shared); diff != "" {
		t.Fatalf("the plan's render differs (-render.Build +plan):\n%s", diff)
	}
	return substituted
}

func TestSharedRenderHoldsOnlyWhatRendersTheSame(t *testing.T) {
	for _, tc := range sharedCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkSharedRender(t, tc.doc, tc.a, tc.b); got != tc.shared {
				t.Errorf("made from the shared render: %v, want %v", got, tc.shared)
			}
		})
	}
}

// FuzzSharedRender feeds arbitrary objects and values to the plan's
// renderer and to render.Build: the objects, or the error, must be the same.
func FuzzSharedRender(f *testing.F) {
	for _, tc := range sharedCases {
		f.Add(tc.doc, tc.a, tc.b)
	}
	f.Fuzz(func(t *testing.T, doc, a, b string) {
		checkSharedRender(t, doc, a, b)
	})
}

func TestPlaceholdersAreDistinct(t *testing.T) {
	p := newPlaceholders()
	names := []string{"A", "AB", "B", "A_1", "a"}
	seen := map[string]string{}
	for _, n := range names {
		ph := p.of(n)
		if other, dup := seen[ph]; dup {
			t.Errorf("%s and %s share the placeholder %s", n, other, ph)
		}
		seen[ph] = n
		if !typedAsString(ph) || !typedAsString("1"+ph) {
			t.Errorf("placeholder %s is not typed as a string", ph)
		}
	}
	if q := newPlaceholders(); q.of("A") == p.of("A") {
		t.Errorf("two plans share the placeholder %s: it must be random", p.of("A"))
	}
}
