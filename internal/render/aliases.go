package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Bounds on what one render may expand to. A YAML alias copies the node it
// names wherever it is used, so a few hundred bytes of nested aliases (a
// "billion laughs") expand to billions of nodes, and an agent that renders
// them runs out of memory and stops every tenant's Stacks.
const (
	// maxAliasExpansion caps the nodes one file's aliases expand to.
	maxAliasExpansion = 1_000_000
)

// maxObjects caps the objects the resource files of one render hold; a
// variable so that tests can lower it.
var maxObjects = 100_000

// checkAliases refuses a YAML file whose aliases expand past
// maxAliasExpansion nodes, before anything expands them. A file that does
// not parse is left to the parser's own error.
func checkAliases(p string, data []byte) error {
	if !bytes.Contains(data, []byte("*")) {
		return nil // no alias
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	total := 0
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			return nil
		}
		e := expansion{memo: map[*yaml.Node]int{}, active: map[*yaml.Node]bool{}, budget: maxAliasExpansion - total}
		size, ok := e.size(&n)
		if !ok {
			return &Error{Path: p, Err: fmt.Errorf("%w: document %d: its YAML aliases expand to more than %d nodes (nested anchors and aliases, a \"billion laughs\"): write the values out or remove the aliases", ErrTooLarge, doc, maxAliasExpansion)}
		}
		total += size
	}
}

// expansion measures a node with its aliases expanded, memoised per node
// and stopping once the budget is spent.
type expansion struct {
	memo   map[*yaml.Node]int
	active map[*yaml.Node]bool // on the current path: an alias cycle
	budget int
}

func (e *expansion) size(n *yaml.Node) (int, bool) {
	if s, ok := e.memo[n]; ok {
		return s, s <= e.budget
	}
	if e.active[n] {
		return 0, false
	}
	e.active[n] = true
	defer delete(e.active, n)
	total := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		s, ok := e.size(n.Alias)
		if !ok {
			return 0, false
		}
		total = s
	}
	for _, c := range n.Content {
		s, ok := e.size(c)
		if !ok {
			return 0, false
		}
		if total += s; total > e.budget {
			return 0, false
		}
	}
	e.memo[n] = total
	return total, total <= e.budget
}

// countObjects adds n objects read from file p to the render's count, and
// refuses the render once it passes maxObjects.
func (g *guard) countObjects(p string, n int) error {
	g.objects += n
	if g.objects > maxObjects {
		return &Error{Path: p, Err: fmt.Errorf("%w: the render holds more than %d objects (this file brings the count to %d): split the path into several Stacks", ErrTooLarge, maxObjects, g.objects)}
	}
	return nil
}
