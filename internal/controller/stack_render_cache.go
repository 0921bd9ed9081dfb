package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// renderCache keeps each Stack's last successful render with a key of
// everything it was made from: the artifact (revision and digest), the
// Stack's spec (its generation) and the substitution variables. A
// reconcile with the same inputs reuses the objects instead of running
// kustomize again, whose cost grows faster than the number of objects
// (kubernetes-sigs/kustomize#5084): at 5000 objects a render takes tens
// of CPU seconds, which every interval reconcile paid.
// The objects are shared and must not be modified; the apply engine copies
// what it changes.
type renderCache struct {
	mu sync.Mutex
	m  map[types.NamespacedName]cachedRender
}

type cachedRender struct {
	inputs string
	objs   []*unstructured.Unstructured
}

// renderInputs is the key of a render of obj from src with vars. Variable
// values are hashed, never kept.
func renderInputs(obj *v1alpha1.Stack, src *sourceArtifact, vars map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00", obj.UID, src.Revision, src.Digest, src.Dir, obj.Generation)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, vars[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *renderCache) get(k types.NamespacedName, inputs string) ([]*unstructured.Unstructured, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[k]
	if !ok || r.inputs != inputs {
		return nil, false
	}
	return r.objs, true
}

func (c *renderCache) set(k types.NamespacedName, inputs string, objs []*unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[types.NamespacedName]cachedRender{}
	}
	c.m[k] = cachedRender{inputs: inputs, objs: objs}
}

func (c *renderCache) forget(k types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
