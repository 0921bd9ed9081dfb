package commitmsg

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// MaxSteps bounds the work of one render: each pass through a range body
// and each run of a template (a define, a block, the message itself) is a
// step. Nested ranges over data, or a template that calls itself twice,
// could otherwise run for hours without writing a byte, so the size bound
// would never stop them. Real messages take a few steps per change.
const MaxSteps = 100_000

// ErrTooManySteps means a render went past MaxSteps; it comes wrapped in
// ErrTemplate.
var ErrTooManySteps = fmt.Errorf("the template ran more than %d steps (passes through a range body or template runs); nested ranges or a template calling itself?", MaxSteps)

// stepFunc is the function each step calls. It is added after the
// template is parsed, so a template cannot call it itself.
const stepFunc = "flotillaCountStep"

// stepCounter returns the function that counts steps: it fails the render
// with ErrTooManySteps once they exceed MaxSteps.
func stepCounter() func() (string, error) {
	steps := 0
	return func() (string, error) {
		steps++
		if steps > MaxSteps {
			return "", ErrTooManySteps
		}
		return "", nil
	}
}

// countSteps makes every template of t and every range body in them call
// stepFunc first. t must offer stepFunc among its functions.
func countSteps(t *template.Template) error {
	probe, err := template.New("step").Funcs(template.FuncMap{stepFunc: stepCounter()}).Parse("{{" + stepFunc + "}}")
	if err != nil {
		return err
	}
	step, ok := probe.Tree.Root.Nodes[0].(*parse.ActionNode)
	if !ok {
		return errors.New("the step counter did not parse as an action")
	}
	for _, d := range t.Templates() {
		if d.Tree != nil && d.Tree.Root != nil {
			addStep(d.Tree.Root, step)
		}
	}
	return nil
}

// addStep puts step first in list and in every range body below it.
func addStep(list *parse.ListNode, step *parse.ActionNode) {
	list.Nodes = append([]parse.Node{step}, list.Nodes...)
	for _, n := range list.Nodes[1:] {
		addStepBelow(n, step)
	}
}

func addStepBelow(n parse.Node, step *parse.ActionNode) {
	var body, orElse *parse.ListNode
	switch n := n.(type) {
	case *parse.RangeNode:
		addStep(n.List, step)
		orElse = n.ElseList
	case *parse.IfNode:
		body, orElse = n.List, n.ElseList
	case *parse.WithNode:
		body, orElse = n.List, n.ElseList
	}
	for _, l := range []*parse.ListNode{body, orElse} {
		if l == nil {
			continue
		}
		for _, c := range l.Nodes {
			addStepBelow(c, step)
		}
	}
}

// refuseRecursion refuses a template that calls itself, directly or
// through others: the data is flat, so nothing could end the recursion
// but the step budget, and unwinding thousands of nested runs is itself
// slow (quadratic in the depth, in text/template).
func refuseRecursion(t *template.Template) error {
	calls := map[string][]string{}
	for _, d := range t.Templates() {
		if d.Tree != nil && d.Tree.Root != nil {
			calls[d.Name()] = calledTemplates(d.Tree.Root, nil)
		}
	}
	const (
		unseen = iota
		walking
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case walking:
			cycle := append(path[slices.Index(path, name):], name)
			return fmt.Errorf("template %q calls itself (%s); recursion is refused", name, strings.Join(cycle, " -> "))
		case done:
			return nil
		}
		state[name] = walking
		for _, c := range calls[name] {
			if err := visit(c, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(calls)) {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

// calledTemplates appends the names of the templates n calls to names.
func calledTemplates(n parse.Node, names []string) []string {
	var lists []*parse.ListNode
	switch n := n.(type) {
	case *parse.ListNode:
		lists = append(lists, n)
	case *parse.TemplateNode:
		names = append(names, n.Name)
	case *parse.RangeNode:
		lists = append(lists, n.List, n.ElseList)
	case *parse.IfNode:
		lists = append(lists, n.List, n.ElseList)
	case *parse.WithNode:
		lists = append(lists, n.List, n.ElseList)
	}
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, c := range l.Nodes {
			names = calledTemplates(c, names)
		}
	}
	return names
}
