package harness

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestMixedCountsEveryObjectAndEveryKind(t *testing.T) {
	files := Mixed("apps", "bench", 1000, "v1")
	if len(files) != 1000 {
		t.Fatalf("files = %d, want 1000", len(files))
	}
	kinds := map[string]int{}
	for p, doc := range files {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		kinds[obj["kind"].(string)]++
		if !strings.HasPrefix(p, "apps/") {
			t.Errorf("%s is outside dir", p)
		}
	}
	if kinds["Namespace"] != 10 || kinds["CustomResourceDefinition"] != 1 {
		t.Errorf("namespaces %d, CRDs %d; want 10 and 1", kinds["Namespace"], kinds["CustomResourceDefinition"])
	}
	for _, k := range MixedKinds {
		if kinds[k] < 100 {
			t.Errorf("%d %s, want at least 100", kinds[k], k)
		}
	}
}

func TestMixedValueChangesObjects(t *testing.T) {
	a, b := Mixed("x", "p", 100, "one"), Mixed("x", "p", 100, "two")
	changed := 0
	for p := range a {
		if a[p] != b[p] {
			changed++
		}
	}
	if changed == 0 || changed == len(a) {
		t.Errorf("%d of %d files changed with the value; want some, not all", changed, len(a))
	}
}
