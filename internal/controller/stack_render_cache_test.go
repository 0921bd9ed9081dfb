package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestRenderInputsChangeWithEveryInput(t *testing.T) {
	stack := func(gen int64) *v1alpha1.Stack {
		s := &v1alpha1.Stack{}
		s.UID, s.Generation = "uid-1", gen
		return s
	}
	src := &sourceArtifact{Revision: "main@sha1:a", Digest: "sha256:1", Dir: "/data/a"}
	vars := map[string]string{"A": "1", "B": "2"}
	base := renderInputs(stack(1), src, vars)
	if again := renderInputs(stack(1), src, map[string]string{"B": "2", "A": "1"}); again != base {
		t.Error("the same inputs must give the same key whatever the map order")
	}
	changed := map[string]string{
		"generation":              renderInputs(stack(2), src, vars),
		"revision":                renderInputs(stack(1), &sourceArtifact{Revision: "main@sha1:b", Digest: src.Digest, Dir: src.Dir}, vars),
		"digest":                  renderInputs(stack(1), &sourceArtifact{Revision: src.Revision, Digest: "sha256:2", Dir: src.Dir}, vars),
		"a variable":              renderInputs(stack(1), src, map[string]string{"A": "1", "B": "3"}),
		"a new variable":          renderInputs(stack(1), src, map[string]string{"A": "1", "B": "2", "C": ""}),
		"a name and value moving": renderInputs(stack(1), src, map[string]string{"A": "1=B", "": "2"}),
	}
	for what, key := range changed {
		if key == base {
			t.Errorf("changing %s must change the key", what)
		}
	}
}

func TestRenderCacheGivesBackOnlyTheSameInputs(t *testing.T) {
	var c renderCache
	k := types.NamespacedName{Namespace: "ns", Name: "app"}
	objs := []*unstructured.Unstructured{{Object: map[string]any{"kind": "ConfigMap"}}}
	if _, ok := c.get(k, "x"); ok {
		t.Fatal("an empty cache has nothing")
	}
	c.set(k, "x", objs)
	if got, ok := c.get(k, "x"); !ok || len(got) != 1 {
		t.Fatalf("get after set = %v, %v", got, ok)
	}
	if _, ok := c.get(k, "y"); ok {
		t.Error("other inputs must miss")
	}
	c.forget(k)
	if _, ok := c.get(k, "x"); ok {
		t.Error("a forgotten Stack must miss")
	}
}
