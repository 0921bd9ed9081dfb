package commitmsg

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strings"
	"text/template"
	"text/template/parse"

	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/internal/image/setters"
)

// MaxMessageSize bounds a rendered message.
const MaxMessageSize = 64 << 10

// Data is the template's data, with Flux's names.
type Data struct {
	// AutomationObject is the ImageUpdate; it prints as namespace/name.
	AutomationObject types.NamespacedName
	// Changed is what the setters changed.
	Changed setters.Result
	// Values are spec.git.commit.messageTemplateValues.
	Values map[string]string
}

// DefaultTemplate lists the changes, one per line, after a summary line.
const DefaultTemplate = `Update images of {{ .AutomationObject }}

{{ range .Changed.Changes -}}
- {{ .OldValue }} -> {{ .NewValue }} ({{ .Setter }})
{{ end }}
Files:
{{ range .Changed.Files -}}
- {{ . }}
{{ end }}`

// ErrTemplate wraps every template error (parse, refused construct,
// execution, size).
var ErrTemplate = errors.New("commit message template")

// ErrEmpty means the template rendered only white space; it comes wrapped
// in ErrTemplate.
var ErrEmpty = errors.New("the message is empty")

// Render renders tmpl (DefaultTemplate when empty) with data.
func Render(tmpl string, data Data) (string, error) {
	if strings.TrimSpace(tmpl) == "" {
		tmpl = DefaultTemplate
	}
	t, err := template.New("messageTemplate").Option("missingkey=zero").Funcs(funcs()).Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	if err := checkTrees(t); err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	if err := countSteps(t.Funcs(template.FuncMap{stepFunc: stepCounter()})); err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	var buf limitedBuffer
	if err := t.Execute(&buf, data); errors.Is(err, ErrTooManySteps) {
		return "", fmt.Errorf("%w: %w", ErrTemplate, ErrTooManySteps)
	} else if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	msg := strings.TrimSpace(buf.String())
	if msg == "" {
		return "", fmt.Errorf("%w: %w", ErrTemplate, ErrEmpty)
	}
	return msg + "\n", nil
}

// funcs are pure string helpers, named as sprig names them so templates
// written for Flux (which offers sprig) mostly work; sprig's env,
// expandenv and anything reading the outside world are left out.
func funcs() template.FuncMap {
	return template.FuncMap{
		"printf":     safePrintf,
		"upper":      strings.ToUpper,
		"lower":      strings.ToLower,
		"trim":       strings.TrimSpace,
		"trimPrefix": func(p, s string) string { return strings.TrimPrefix(s, p) },
		"trimSuffix": func(p, s string) string { return strings.TrimSuffix(s, p) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(p, s string) bool { return strings.HasPrefix(s, p) },
		"hasSuffix":  func(p, s string) bool { return strings.HasSuffix(s, p) },
		"join":       func(sep string, list []string) string { return strings.Join(list, sep) },
		"split":      func(sep, s string) []string { return strings.Split(s, sep) },
		"quote":      func(s string) string { return fmt.Sprintf("%q", s) },
		"default":    func(def, v string) string { return cmpOr(v, def) },
		"indent":     func(n int, s string) string { return indent(n, s) },
		"nindent":    func(n int, s string) string { return "\n" + indent(n, s) },
		"trunc":      truncate,
	}
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", min(max(n, 0), 64))
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func truncate(n int, s string) string {
	if n >= 0 && n < len(s) {
		return s[:n]
	}
	return s
}

// bigWidth reports whether a printf format has a width or precision of
// 1000 or more, or one taken from an argument (*, also after an argument
// index such as %[1]*d): either could make one call build a huge string
// before the message bound sees it. A literal %% is not a verb.
func bigWidth(format string) bool {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		if j < len(format) && format[j] == '%' {
			i = j
			continue
		}
		n, inIndex := 0, false
		for ; j < len(format) && strings.IndexByte("-+# 0123456789.[]*", format[j]) >= 0; j++ {
			switch c := format[j]; {
			case c == '*':
				return true
			case c == '[' || c == ']':
				n, inIndex = 0, c == '['
			case c >= '0' && c <= '9' && !inIndex:
				if n = n*10 + int(c-'0'); n >= 1000 {
					return true
				}
			case !inIndex:
				n = 0
			}
		}
		i = j - 1
	}
	return false
}

func safePrintf(format string, args ...any) (string, error) {
	if bigWidth(format) {
		return "", fmt.Errorf("printf widths of 1000 or more (or *) are refused")
	}
	return fmt.Sprintf(format, args...), nil
}

// checkTrees checks the main template and every template it defines.
func checkTrees(t *template.Template) error {
	if err := refuseRecursion(t); err != nil {
		return err
	}
	var pipes, withs []*parse.PipeNode
	for _, d := range t.Templates() {
		if d.Tree != nil {
			pipes, withs = collectPipes(d.Tree.Root, pipes, withs)
		}
	}
	reassigned := reassignedNumbers(pipes, withs)
	for _, d := range t.Templates() {
		if d.Tree == nil {
			continue
		}
		if err := checkTree(d.Tree.Root, maps.Clone(reassigned)); err != nil {
			return err
		}
	}
	return nil
}

// reassignedNumbers returns the variables an = assignment may set to a
// number, anywhere: in a loop, the value reaches ranges before the
// assignment too, so they count as numbers from the start (and, under
// "=NAME", stay so when declared again). Scopes are ignored here, which
// only errs on the side of refusing.
func reassignedNumbers(pipes, withs []*parse.PipeNode) map[string]bool {
	maybe := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, w := range withs {
			if !maybe["."] && isNumeric(w, maybe) {
				maybe["."], changed = true, true
			}
		}
		for _, p := range pipes {
			if !isNumeric(p, maybe) {
				continue
			}
			for _, v := range p.Decl {
				if !maybe[v.Ident[0]] {
					maybe[v.Ident[0]], changed = true, true
				}
			}
		}
	}
	out := map[string]bool{}
	for _, p := range pipes {
		for _, v := range p.Decl {
			if p.IsAssign && maybe[v.Ident[0]] {
				out[v.Ident[0]], out["="+v.Ident[0]] = true, true
			}
		}
	}
	return out
}

// collectPipes appends the pipelines of the tree's actions and control
// structures to pipes, and those of its with actions to withs too.
func collectPipes(n parse.Node, pipes, withs []*parse.PipeNode) ([]*parse.PipeNode, []*parse.PipeNode) {
	var lists []*parse.ListNode
	switch n := n.(type) {
	case *parse.ListNode:
		lists = append(lists, n)
	case *parse.ActionNode:
		pipes = append(pipes, n.Pipe)
	case *parse.RangeNode:
		pipes, lists = append(pipes, n.Pipe), []*parse.ListNode{n.List, n.ElseList}
	case *parse.IfNode:
		pipes, lists = append(pipes, n.Pipe), []*parse.ListNode{n.List, n.ElseList}
	case *parse.WithNode:
		pipes, lists = append(pipes, n.Pipe), []*parse.ListNode{n.List, n.ElseList}
		withs = append(withs, n.Pipe)
	}
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, c := range l.Nodes {
			pipes, withs = collectPipes(c, pipes, withs)
		}
	}
	return pipes, withs
}

// checkTree refuses range over anything but data: a number literal, or a
// variable or dot holding one, could loop for ever. numeric says which
// variables (and "." for dot) hold a number in the current scope; each
// control structure's body gets its own copy, as a template's variables
// are scoped to it.
func checkTree(n parse.Node, numeric map[string]bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkTree(c, numeric); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		declareNumeric(n.Pipe, numeric)
	case *parse.TemplateNode:
		if isNumeric(n.Pipe, numeric) {
			return fmt.Errorf("line %d: passing a number to template %q is refused", n.Line, n.Name)
		}
	case *parse.RangeNode:
		if err := checkRange(n.Pipe, numeric); err != nil {
			return err
		}
		body := maps.Clone(numeric)
		declareNumeric(n.Pipe, body)
		body["."] = false
		return errors.Join(checkTree(n.List, body), checkTree(n.ElseList, maps.Clone(numeric)))
	case *parse.IfNode:
		body := maps.Clone(numeric)
		declareNumeric(n.Pipe, body)
		return errors.Join(checkTree(n.List, body), checkTree(n.ElseList, maps.Clone(body)))
	case *parse.WithNode:
		body := maps.Clone(numeric)
		declareNumeric(n.Pipe, body)
		orElse := maps.Clone(body)
		body["."] = isNumeric(n.Pipe, numeric)
		return errors.Join(checkTree(n.List, body), checkTree(n.ElseList, orElse))
	}
	return nil
}

func declareNumeric(p *parse.PipeNode, numeric map[string]bool) {
	if p == nil || len(p.Decl) == 0 {
		return
	}
	num := isNumeric(p, numeric)
	for _, v := range p.Decl {
		name := v.Ident[0]
		numeric[name] = num || numeric["="+name]
	}
}

// isNumeric reports whether a pipeline may yield a number: it holds a
// number literal, or a variable or dot known to hold one, at any depth.
func isNumeric(p *parse.PipeNode, numeric map[string]bool) bool {
	if p == nil {
		return false
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.NumberNode:
				return true
			case *parse.VariableNode:
				if numeric[a.Ident[0]] {
					return true
				}
			case *parse.DotNode:
				if numeric["."] {
					return true
				}
			case *parse.PipeNode:
				if isNumeric(a, numeric) {
					return true
				}
			}
		}
	}
	return false
}

func checkRange(p *parse.PipeNode, numeric map[string]bool) error {
	if !isNumeric(p, numeric) {
		return nil
	}
	for _, c := range p.Cmds {
		if v, ok := c.Args[0].(*parse.VariableNode); ok && numeric[v.Ident[0]] {
			return fmt.Errorf("line %d: range over %s, a number, is refused; range over .Changed data", p.Line, v.Ident[0])
		}
	}
	return fmt.Errorf("line %d: range over a number is refused; range over .Changed data", p.Line)
}

// limitedBuffer fails writes beyond MaxMessageSize, which stops Execute.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxMessageSize {
		return 0, fmt.Errorf("the message is longer than %d bytes", MaxMessageSize)
	}
	return b.Buffer.Write(p)
}
