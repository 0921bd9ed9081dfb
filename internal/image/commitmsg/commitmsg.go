package commitmsg

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
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
	if err := checkTree(t.Tree.Root, map[string]bool{}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	var buf limitedBuffer
	if err := t.Execute(&buf, data); err != nil {
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

// bigWidth finds a width or precision of four digits or more.
var bigWidth = regexp.MustCompile(`%[-+# 0]*([0-9]{4,}|\*|[0-9]*\.[0-9]{4,})`)

func safePrintf(format string, args ...any) (string, error) {
	if bigWidth.MatchString(format) {
		return "", fmt.Errorf("printf widths of 1000 or more (or *) are refused")
	}
	return fmt.Sprintf(format, args...), nil
}

// checkTree refuses range over anything but data: a number literal, or a
// variable holding one, could loop for ever.
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
	case *parse.RangeNode:
		if err := checkRange(n.Pipe, numeric); err != nil {
			return err
		}
		return errors.Join(checkTree(n.List, numeric), checkTree(n.ElseList, numeric))
	case *parse.IfNode:
		return errors.Join(checkTree(n.List, numeric), checkTree(n.ElseList, numeric))
	case *parse.WithNode:
		return errors.Join(checkTree(n.List, numeric), checkTree(n.ElseList, numeric))
	}
	return nil
}

func declareNumeric(p *parse.PipeNode, numeric map[string]bool) {
	if p == nil || len(p.Decl) == 0 {
		return
	}
	lit := hasNumber(p)
	for _, v := range p.Decl {
		numeric[v.Ident[0]] = lit
	}
}

func hasNumber(p *parse.PipeNode) bool {
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			if _, ok := a.(*parse.NumberNode); ok {
				return true
			}
		}
	}
	return false
}

func checkRange(p *parse.PipeNode, numeric map[string]bool) error {
	if hasNumber(p) {
		return fmt.Errorf("line %d: range over a number is refused; range over .Changed data", p.Line)
	}
	for _, c := range p.Cmds {
		if v, ok := c.Args[0].(*parse.VariableNode); ok && numeric[v.Ident[0]] {
			return fmt.Errorf("line %d: range over %s, a number, is refused; range over .Changed data", p.Line, v.Ident[0])
		}
	}
	declareNumeric(p, numeric)
	return nil
}

// limitedBuffer fails writes beyond MaxMessageSize, which stops Execute.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxMessageSize {
		return 0, fmt.Errorf("the message is longer than %d bytes", MaxMessageSize)
	}
	return b.Buffer.Write(p)
}
