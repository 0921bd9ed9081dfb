package cli

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// diffOf is the ObjectDiff of one object from live to merged.
func diffOf(action apply.Action, live, merged *unstructured.Unstructured, note string) apply.ObjectDiff {
	id := live
	if id == nil {
		id = merged
	}
	return apply.ObjectDiff{Object: apply.MetadataOf(id), Action: action, Live: live, Merged: merged, Note: note}
}

// mixedDiff has one object of each action, prune candidates pruned and
// kept, and a prune held back.
func mixedDiff() *stackDiff {
	same := configMap("shop", "same", map[string]any{"a": "1"})
	return &stackDiff{
		objects: []apply.ObjectDiff{
			diffOf(apply.Unchanged, same, same, ""),
			diffOf(apply.Created, nil, configMap("shop", "new", map[string]any{"region": "eu-west"}), ""),
			diffOf(apply.Configured, configMap("shop", "settings", map[string]any{"region": "us-east", "tier": "gold"}),
				configMap("shop", "settings", map[string]any{"region": "eu-west", "tier": "gold"}), ""),
			diffOf(apply.Recreated, configMap("shop", "immutable", map[string]any{"v": "1"}),
				configMap("shop", "immutable", map[string]any{"v": "2"}), "field is immutable: would be recreated"),
		},
		prune: []apply.ObjectDiff{
			{Object: apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "old"}, Action: apply.Deleted},
			{Object: apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "kept"}, Action: apply.Skipped,
				Note: "annotated flotilla.io/prune: disabled"},
		},
		pruneHeldBack: "2 of 3 objects (66%) exceed maxPrunePercent 50%",
	}
}

func TestDiffPrintGolden(t *testing.T) {
	var out bytes.Buffer
	if err := mixedDiff().print(&out, palette{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-print-mixed.golden", out.String())
}

func TestDiffCount(t *testing.T) {
	cases := []struct {
		name                 string
		d                    *stackDiff
		create, change, prun int
	}{
		{"nothing", &stackDiff{}, 0, 0, 0},
		{"one of each; a kept prune candidate is no change", mixedDiff(), 1, 2, 1},
		{"only unchanged objects", &stackDiff{objects: []apply.ObjectDiff{{Action: apply.Unchanged}, {Action: apply.Unchanged}}}, 0, 0, 0},
		{"only skipped candidates", &stackDiff{prune: []apply.ObjectDiff{{Action: apply.Skipped}}}, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			create, change, prune := tc.d.count()
			if create != tc.create || change != tc.change || prune != tc.prun {
				t.Errorf("count = %d, %d, %d; want %d, %d, %d", create, change, prune, tc.create, tc.change, tc.prun)
			}
			if got, want := tc.d.changes(), tc.create+tc.change+tc.prun; got != want {
				t.Errorf("changes = %d, want %d", got, want)
			}
		})
	}
}

func TestDiffHeaders(t *testing.T) {
	cm := configMap("shop", "settings", nil)
	cases := []struct {
		name     string
		o        apply.ObjectDiff
		from, to string
	}{
		{"a change", diffOf(apply.Configured, cm, cm, ""), "live ConfigMap/shop/settings", "merged ConfigMap/shop/settings"},
		{"a creation", diffOf(apply.Created, nil, cm, ""), "live ConfigMap/shop/settings (absent: would be created)", "merged ConfigMap/shop/settings"},
		{"a note", diffOf(apply.Created, nil, cm, "namespace shop does not exist yet"), "live ConfigMap/shop/settings (absent: would be created)",
			"merged ConfigMap/shop/settings (namespace shop does not exist yet)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, to := diffHeaders(tc.o)
			if from != tc.from || to != tc.to {
				t.Errorf("diffHeaders = %q, %q; want %q, %q", from, to, tc.from, tc.to)
			}
		})
	}
}

func TestYAMLLines(t *testing.T) {
	lines, err := yamlLines(configMap("shop", "settings", map[string]any{"a": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apiVersion: v1\n", "data:\n", "  a: \"1\"\n", "kind: ConfigMap\n", "metadata:\n", "  name: settings\n", "  namespace: shop\n"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("yamlLines (-want +got):\n%s", diff)
	}
	if lines, err := yamlLines(nil); lines != nil || err != nil {
		t.Errorf("yamlLines(nil) = %q, %v", lines, err)
	}
}

func TestColourDiff(t *testing.T) {
	text := "--- live x\n+++ merged x\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n"
	if got := colourDiff(text, palette{}); got != text {
		t.Errorf("off a terminal the diff changed: %q", got)
	}
	want := "\x1b[1m--- live x\x1b[0m\n\x1b[1m+++ merged x\x1b[0m\n\x1b[2m@@ -1,2 +1,2 @@\x1b[0m\n a: 1\n" +
		"\x1b[31m-b: 2\x1b[0m\n\x1b[32m+b: 3\x1b[0m\n"
	if diff := cmp.Diff(want, colourDiff(text, palette{on: true})); diff != "" {
		t.Errorf("colourDiff (-want +got):\n%s", diff)
	}
	if got := colourDiff("+added without a final newline", palette{on: true}); got != "\x1b[32m+added without a final newline\x1b[0m\n" {
		t.Errorf("colourDiff of a last line = %q", got)
	}
}
