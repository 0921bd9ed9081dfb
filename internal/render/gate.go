package render

import (
	"context"
	"runtime"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// gate bounds the kustomize builds that run at once in this process.
//
// Kustomize keeps its OpenAPI schema in package globals
// (https://github.com/kubernetes-sigs/kustomize/issues/4824). Since kyaml
// guards them with a lock, builds may run side by side once the default
// schema is parsed, which the gate does once before the first build. A
// build whose kustomizations set `openapi:` changes the schema for every
// build in the process, so it runs alone and resets the schema after itself.
var gate = newBuildGate(buildSlots())

// buildSlots is how many builds run at once: one per CPU, at least two, so
// that one slow or runaway build never holds every other Stack.
func buildSlots() int {
	return max(2, runtime.GOMAXPROCS(0))
}

// buildGate is a counting semaphore whose exclusive holders take every slot.
type buildGate struct {
	slots     chan struct{}
	exclusive sync.Mutex // one exclusive acquirer at a time, so two never deadlock
	warm      sync.Once
}

func newBuildGate(n int) *buildGate {
	return &buildGate{slots: make(chan struct{}, n)}
}

// acquire takes one slot, or all of them when exclusive, and returns the
// function that gives them back. It honours ctx while it waits.
func (g *buildGate) acquire(ctx context.Context, exclusive bool) (release func(), err error) {
	g.warm.Do(func() {
		// Parse the default schema once, before builds share it.
		openapi.SchemaForResourceType(yaml.TypeMeta{})
	})
	n := 1
	if exclusive {
		n = cap(g.slots)
		g.exclusive.Lock()
		defer g.exclusive.Unlock()
	}
	for taken := 0; taken < n; taken++ {
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			g.give(taken)
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() { once.Do(func() { g.give(n) }) }, nil
}

func (g *buildGate) give(n int) {
	for range n {
		<-g.slots
	}
}
