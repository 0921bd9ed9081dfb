package fleet

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// FuzzInputs feeds arbitrary kustomizations to the closure: it must never
// panic, and never name a file the snapshot does not hold.
func FuzzInputs(f *testing.F) {
	f.Add("resources:\n- ../base\n- cm.yaml\n", "overlay")
	f.Add("configMapGenerator:\n- name: c\n  files: [k=../../etc/passwd]\n", ".")
	f.Add("transformers:\n- t.yaml\n", "overlay")
	f.Add("{", "..")
	f.Fuzz(func(t *testing.T, kustomization, dir string) {
		s := newSnapshot("fuzz")
		for p, content := range map[string]string{
			"overlay/kustomization.yaml": kustomization,
			"overlay/t.yaml":             kustomization,
			"base/kustomization.yaml":    "resources: [cm.yaml]\n",
			"base/cm.yaml":               "kind: ConfigMap\n",
			"cm.yaml":                    "kind: ConfigMap\n",
		} {
			s.add(p, filemode.Regular, [20]byte{}, []byte(content))
		}
		s.index()
		files, _ := s.inputs(dir)
		for _, p := range files {
			if !s.isFile(p) {
				t.Fatalf("inputs(%q) names %q, which is not in the snapshot", dir, p)
			}
		}
	})
}
