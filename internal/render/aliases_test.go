package render

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// aliasBomb is a 414-byte ConfigMap whose nested aliases expand to 9^9
// (387 million) strings: before aliases were bounded, rendering it pushed
// the heap past 1.5 GiB and the agent (1 GiB limit) crash-looped.
const aliasBomb = `apiVersion: v1
kind: ConfigMap
metadata:
  name: bomb
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestAliasBombRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		file  string
	}{
		{name: "in a resource", file: "bomb.yaml", files: map[string]string{
			"kustomization.yaml": "resources:\n  - bomb.yaml\n", "bomb.yaml": aliasBomb}},
		{name: "in a plain directory without a kustomization", file: "bomb.yaml", files: map[string]string{"bomb.yaml": aliasBomb}},
		{name: "in a patch file", file: "patch.yaml", files: map[string]string{
			"kustomization.yaml": "resources:\n  - cm.yaml\npatches:\n  - path: patch.yaml\n",
			"cm.yaml":            configMap, "patch.yaml": strings.Replace(aliasBomb, "name: bomb", "name: cm", 1)}},
		{name: "in the kustomization itself", file: "kustomization.yaml", files: map[string]string{
			"kustomization.yaml": "resources:\n  - cm.yaml\ncommonAnnotations:\n" + indentLines(strings.SplitN(aliasBomb, "data:\n", 2)[1], "  "),
			"cm.yaml":            configMap}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tc.files {
				writeFile(t, root, name, content)
			}
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := buildBoth(t, Options{Root: root})
			var rerr *Error
			if !errors.As(err, &rerr) || !errors.Is(err, ErrTooLarge) || rerr.Path != tc.file || !strings.Contains(err.Error(), "aliases expand") {
				t.Fatalf("Build: %v; want ErrTooLarge naming %s and the aliases", err, tc.file)
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
				t.Errorf("refusing the bomb allocated %d MiB", grown>>20)
			}
		})
	}
}

func TestAliasesWithinBoundsRendered(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: anchors
  labels: &labels {app: web, tier: front}
  annotations: *labels
data:
  a: &v "value"
  b: *v
`)
	objs, err := buildBoth(t, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if got := objs[0].GetAnnotations()["tier"]; len(objs) != 1 || got != "front" {
		t.Errorf("aliases were not expanded as kustomize does: %v", objs)
	}
}

func TestObjectCountBounded(t *testing.T) {
	defer func(n int) { maxObjects = n }(maxObjects)
	maxObjects = 5
	root := t.TempDir()
	var docs []string
	for i := range 6 {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n", i))
	}
	writeFile(t, root, "a.yaml", strings.Join(docs[:3], "---\n"))
	writeFile(t, root, "b.yaml", strings.Join(docs[3:], "---\n"))
	writeFile(t, root, "kustomization.yaml", "resources:\n  - a.yaml\n  - b.yaml\n")
	_, err := buildBoth(t, Options{Root: root})
	var rerr *Error
	if !errors.As(err, &rerr) || !errors.Is(err, ErrTooLarge) || rerr.Path != "b.yaml" || !strings.Contains(err.Error(), "more than 5 objects") {
		t.Fatalf("Build: %v; want ErrTooLarge naming b.yaml and the bound", err)
	}
}

func indentLines(s, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n") + "\n"
}
