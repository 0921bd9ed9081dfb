package fleet

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
)

func TestInputsEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		dir   string
		want  []string
	}{
		{
			name: "kustomization.yml and Kustomization are kustomizations too",
			files: map[string]string{
				"a/kustomization.yml": "resources: [../b]\n",
				"b/Kustomization":     "resources: [cm.yaml]\n",
				"b/cm.yaml":           "kind: ConfigMap\n",
				"b/sub/unread.yaml":   "kind: ConfigMap\n",
			},
			dir:  "a",
			want: []string{"a/kustomization.yml", "b/Kustomization", "b/cm.yaml"},
		},
		{
			name: "a cycle of kustomizations ends",
			files: map[string]string{
				"a/kustomization.yaml": "resources: [../b]\n",
				"b/kustomization.yaml": "resources: [../a]\n",
			},
			dir:  "a",
			want: []string{"a/kustomization.yaml", "b/kustomization.yaml"},
		},
		{
			name: "KEY=path names the path; a literal KEY=value names nothing",
			files: map[string]string{
				"a/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [conf=../data/app.conf]\n  literals: [mode=../nothing]\n",
				"data/app.conf":        "x\n",
			},
			dir:  "a",
			want: []string{"a/kustomization.yaml", "data/app.conf"},
		},
		{
			name: "strings of a resource file are not followed, those of a generator's configuration are",
			files: map[string]string{
				"a/kustomization.yaml":        "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
				"a/cm.yaml":                   "kind: ConfigMap\ndata: {x: ../b/named-in-a-resource.yaml}\n",
				"a/gen.yaml":                  "kind: Generator\nfiles: [../b/named-in-a-generator.yaml]\n",
				"b/named-in-a-resource.yaml":  "x\n",
				"b/named-in-a-generator.yaml": "x\n",
			},
			dir:  "a",
			want: []string{"a/cm.yaml", "a/gen.yaml", "a/kustomization.yaml", "b/named-in-a-generator.yaml"},
		},
		{
			name: "a kustomization that is not YAML takes its own directory only",
			files: map[string]string{
				"a/kustomization.yaml": "resources: [../b\n",
				"a/other.yaml":         "kind: ConfigMap\n",
				"b/cm.yaml":            "kind: ConfigMap\n",
			},
			dir:  "a",
			want: []string{"a/kustomization.yaml", "a/other.yaml"},
		},
		{
			name: "absolute paths, paths leaving the fleet and odd strings name nothing",
			files: map[string]string{
				"a/kustomization.yaml": "resources: [/etc/passwd, ../../outside, \"../b\\n\"]\n" +
					// 1204 characters, over maxRefLen, though it names ../b.
					"namePrefix: " + strings.Repeat("./", 600) + "../b\n",
				"b/cm.yaml": "kind: ConfigMap\n",
			},
			dir:  "a",
			want: []string{"a/kustomization.yaml"},
		},
		{
			name:  "a path that is not in the snapshot has no inputs",
			files: map[string]string{"a/kustomization.yaml": "resources: []\n"},
			dir:   "missing",
			want:  []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, exact := snapshotFiles(tc.files).inputs(tc.dir)
			if diff := cmp.Diff(tc.want, got); diff != "" || !exact {
				t.Errorf("inputs of %s (-want +got), exact %v:\n%s", tc.dir, exact, diff)
			}
		})
	}
}

func TestInputsThroughASymlinkAreNotExact(t *testing.T) {
	s := newSnapshot("test")
	s.add("a/kustomization.yaml", filemode.Regular, plumbing.ZeroHash, []byte("resources: [cm.yaml]\n"))
	s.add("a/cm.yaml", filemode.Symlink, plumbing.ZeroHash, []byte("../b/cm.yaml"))
	s.add("b/cm.yaml", filemode.Regular, plumbing.ZeroHash, []byte("kind: ConfigMap\n"))
	s.index()
	if _, exact := s.inputs("a"); exact {
		t.Error("inputs that hold a symlink are exact: the link's target would be missing from the render")
	}
	if _, exact := s.inputs("b"); !exact {
		t.Error("inputs without a symlink are not exact")
	}
}

func TestInputsOfEquivalentSpellingsOfAPath(t *testing.T) {
	s := snapshotFiles(map[string]string{"apps/prod/kustomization.yaml": "resources: []\n", "apps/prod/x.yaml": "x\n"})
	want, _ := s.inputs("apps/prod")
	for _, p := range []string{"./apps/prod", "apps/prod/", "apps//prod", "apps/base/../prod"} {
		got, exact := s.inputs(p)
		if diff := cmp.Diff(want, got); diff != "" || !exact {
			t.Errorf("inputs(%q) (-want +got), exact %v:\n%s", p, exact, diff)
		}
	}
}
