package render

import (
	"context"
	"strings"
	"testing"
	"time"
)

// smallTree is one ConfigMap, for builds that must go through while another
// holds the gate.
func smallTree(t *testing.T) string {
	return writeTree(t, map[string]string{
		"kustomization.yaml": "resources: [cm.yaml]\n",
		"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\n  namespace: ns\ndata:\n  k: v\n",
	})
}

// A build that never finishes (kustomize cannot be interrupted) holds one
// slot; the other Stacks still build (#16, item 8).
func TestBuildGoesThroughWhileAnotherBuildHoldsASlot(t *testing.T) {
	release, err := gate.acquire(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs, err := Build(ctx, Options{Root: smallTree(t)})
	if err != nil {
		t.Fatalf("a build must not wait for another one that holds a slot: %v", err)
	}
	if len(objs) != 1 || objs[0].GetName() != "small" {
		t.Errorf("got %d objects", len(objs))
	}
}

// A build that sets a custom schema waits for every slot, and gives up when
// its context ends, taking none.
func TestExclusiveBuildWaitsForEverySlotAndHonoursContext(t *testing.T) {
	g := newBuildGate(2)
	release, err := g.acquire(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.acquire(ctx, true); err == nil {
		t.Fatal("an exclusive build must wait while another build runs")
	}
	if got := len(g.slots); got != 1 {
		t.Fatalf("the failed exclusive acquire kept %d slots, want only the shared one (1)", got)
	}
	release()
	release() // twice is harmless
	releaseAll, err := g.acquire(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(g.slots); got != 2 {
		t.Errorf("an exclusive build holds %d slots, want 2", got)
	}
	releaseAll()
	if got := len(g.slots); got != 0 {
		t.Errorf("%d slots still held", got)
	}
}

// podSpecWithoutMergeKeys is a custom schema that redefines PodSpec with a
// containers list that has no merge key.
const podSpecWithoutMergeKeys = `{"definitions": {"io.k8s.api.core.v1.PodSpec": {"type": "object",
  "properties": {"containers": {"type": "array", "items": {"type": "object"}}}}}}`

// A kustomization with a custom openapi schema does not change how later
// builds merge patches: kustomize adds a custom schema to a process global
// and keeps it, so a later strategic-merge patch in another Stack would
// replace the containers list instead of merging it by name.
func TestCustomOpenAPISchemaDoesNotLeakIntoLaterBuilds(t *testing.T) {
	custom := writeTree(t, map[string]string{
		"kustomization.yaml": "openapi:\n  path: schema.json\nresources: [cm.yaml]\n",
		"schema.json":        podSpecWithoutMergeKeys,
		"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: custom\ndata:\n  k: v\n",
	})
	if _, err := Build(context.Background(), Options{Root: custom}); err != nil {
		t.Fatal(err)
	}
	victim := writeTree(t, map[string]string{
		"kustomization.yaml": "resources: [deploy.yaml]\npatches:\n- path: patch.yaml\n",
		"deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
      - name: sidecar
        image: sidecar:1
`,
		"patch.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        env: [{name: MODE, value: fast}]
`,
	})
	objs, err := Build(context.Background(), Options{Root: victim})
	if err != nil {
		t.Fatal(err)
	}
	out := toYAML(t, objs)
	for _, want := range []string{"image: web:1", "image: sidecar:1", "value: fast"} {
		if !strings.Contains(out, want) {
			t.Errorf("the strategic merge lost %q after a custom-schema build:\n%s", want, out)
		}
	}
}
