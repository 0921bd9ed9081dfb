package fleet

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
	"github.com/flotilla-io/flotilla/internal/render"
)

// TestInputsRenderLikeTheWholeTree renders every path of the fleets from
// its computed inputs alone and from the whole tree: the objects must be
// the same, so the closure never changes a plan.
func TestInputsRenderLikeTheWholeTree(t *testing.T) {
	fleets := map[string]map[string]string{
		"examples/fleet": exampleFleet(t),
		"generated":      fleettest.Files(fleettest.Options{Clusters: 2, Objects: 30}),
	}
	paths := map[string][]string{
		"examples/fleet": {"clusters/staging", "./infrastructure/base", "./infrastructure/configs", "./apps/overlays/prod-us-east"},
		"generated":      {"clusters/cluster-01", "./infrastructure/base", "./apps/overlays/cluster-00"},
	}
	for name, files := range fleets {
		dir := repoWith(t, files, nil)
		r, err := OpenRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.WorktreeSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths[name] {
			t.Run(name+"/"+p, func(t *testing.T) {
				inputs, exact := s.inputs(p)
				if !exact || len(inputs) == 0 || len(inputs) == len(s.paths) && p != "." {
					t.Fatalf("inputs of %s: %d of %d files, exact %v", p, len(inputs), len(s.paths), exact)
				}
				rr := newRenderer(t.TempDir())
				opts := render.Options{Path: p, Substitute: map[string]string{"CLUSTER_NAME": "x", "CLUSTER_REGION": "y"}}
				fromInputs, err := rr.build(t.Context(), rr.prepare(s, opts))
				if err != nil {
					t.Fatal(err)
				}
				opts.Root = dir
				whole, err := render.Build(t.Context(), opts)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(whole, fromInputs); diff != "" {
					t.Errorf("render from the inputs differs (-whole +inputs):\n%s", diff)
				}
			})
		}
	}
}

func TestInputsFollowEveryReference(t *testing.T) {
	s := newSnapshot("test")
	for p, content := range map[string]string{
		"overlay/kustomization.yaml": "resources:\n- ../base\npatches:\n- path: ../patches/replicas.yaml\nconfigMapGenerator:\n- name: c\n  files:\n  - key=../data/config.txt\ntransformers:\n- ../transformers/labels.yaml\n",
		"base/kustomization.yaml":    "resources:\n- deployment.yaml\n",
		"base/deployment.yaml":       "kind: Deployment\n",
		"patches/replicas.yaml":      "kind: Deployment\n",
		"data/config.txt":            "x\n",
		"transformers/labels.yaml":   "kind: PatchTransformer\npath: ../patches/extra.yaml\n",
		"patches/extra.yaml":         "kind: Deployment\n",
		"unrelated/big.yaml":         "kind: ConfigMap\n",
		"plain/a.yaml":               "kind: ConfigMap\n",
		"plain/sub/b.yaml":           "kind: ConfigMap\n",
	} {
		s.add(p, 0o100644, [20]byte{}, []byte(content))
	}
	s.index()
	got, exact := s.inputs("./overlay")
	want := []string{"base/deployment.yaml", "base/kustomization.yaml", "data/config.txt", "overlay/kustomization.yaml",
		"patches/extra.yaml", "patches/replicas.yaml", "transformers/labels.yaml"}
	if diff := cmp.Diff(want, got); diff != "" || !exact {
		t.Errorf("inputs (-want +got), exact %v:\n%s", exact, diff)
	}
	if got, _ := s.inputs("plain"); !cmp.Equal(got, []string{"plain/a.yaml", "plain/sub/b.yaml"}) {
		t.Errorf("a directory without kustomization takes its whole subtree, got %v", got)
	}
	for _, p := range []string{"../outside", "/overlay"} {
		if _, exact := s.inputs(p); exact {
			t.Errorf("inputs(%q): a path outside the fleet directory must fall back to the whole tree", p)
		}
	}
	if got, _ := s.inputs(""); len(got) != len(s.paths) {
		t.Errorf("the root without a kustomization takes every file, got %d of %d", len(got), len(s.paths))
	}
}
