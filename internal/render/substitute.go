package render

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// varError is a ${...} expression that cannot be expanded. It carries the
// variable's name, never a value.
type varError struct {
	name      string // empty when the expression is malformed
	undefined bool   // name has no value and no default
	binary    bool   // name's value is not UTF-8 text
}

func (e *varError) Error() string {
	switch {
	case e.undefined:
		return "variable " + e.name + " is not defined"
	case e.binary:
		return "variable " + e.name + " is not UTF-8 text"
	}
	return "malformed ${...} expression"
}

// expand replaces every ${NAME} with the value of NAME, and every
// ${NAME:=default} with the value of NAME or, when NAME is not defined,
// default. $${ is an escape that yields a literal ${ and leaves the rest of
// that expression, up to its }, untouched. A NAME is [A-Za-z_][A-Za-z0-9_]*;
// anything else after ${ is a malformed expression.
func expand(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			n := escapedLen(s[i+1:])
			b.WriteString(s[i+1 : i+1+n])
			i += 1 + n
		case strings.HasPrefix(s[i:], "${"):
			n, value, err := expression(s[i:], vars)
			if err != nil {
				return "", err
			}
			b.WriteString(value)
			i += n
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// escapedLen is the length of the literal "${...}" that follows an escaping $.
func escapedLen(s string) int {
	if end := strings.IndexByte(s, '}'); end >= 0 {
		return end + 1
	}
	return len(s)
}

// expression expands the expression at the start of s and says how many
// bytes it took.
func expression(s string, vars map[string]string) (int, string, error) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, "", &varError{}
	}
	name, def, hasDefault := strings.Cut(s[2:end], ":=")
	if !validName(name) {
		return 0, "", &varError{}
	}
	if v, ok := vars[name]; ok {
		if !utf8.ValidString(v) {
			return 0, "", &varError{name: name, binary: true}
		}
		return end + 1, v, nil
	}
	if hasDefault {
		return end + 1, def, nil
	}
	return 0, "", &varError{name: name, undefined: true}
}

// validName reports whether s is [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// substitute expands the variables in every string of an object, mapping
// keys included. It works on the parsed tree, never on YAML text, so that no
// value can change the object's structure: a value that looks like YAML
// ("a: b", "[x]", a multi-line text) stays one string. A plain (unquoted)
// scalar is re-typed after substitution, as if the value had been written
// there, so that replicas: ${REPLICAS} becomes a number, as with Flux; quoted
// and block scalars stay strings.
func substitute(n *yaml.RNode, vars map[string]string) error {
	if vars == nil {
		return nil
	}
	return substituteNode(n.YNode(), "", vars)
}

func substituteNode(n *yaml.Node, field string, vars map[string]string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := substituteNode(c, field, vars); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := substituteNode(c, fmt.Sprintf("%s[%d]", field, i), vars); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		return substituteMapping(n, field, vars)
	case yaml.ScalarNode:
		return substituteScalar(n, field, vars, true)
	}
	return nil
}

func substituteMapping(n *yaml.Node, field string, vars map[string]string) error {
	keysChanged := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		child := joinField(field, key.Value)
		before := key.Value
		if err := substituteScalar(key, child, vars, false); err != nil {
			return err
		}
		keysChanged = keysChanged || key.Value != before
		if err := substituteNode(value, child, vars); err != nil {
			return err
		}
	}
	if keysChanged {
		return uniqueKeys(n, field)
	}
	return nil
}

// substituteScalar expands a string scalar. typed allows a plain scalar to
// become a number, boolean or null.
func substituteScalar(n *yaml.Node, field string, vars map[string]string, typed bool) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != yaml.NodeTagString || !strings.Contains(n.Value, "${") {
		return nil
	}
	out, err := expand(n.Value, vars)
	if err != nil {
		return fieldError(field, err)
	}
	if out == n.Value {
		return nil
	}
	plain := n.Style == 0
	n.Value = out
	n.Tag = yaml.NodeTagString
	if typed && plain {
		n.Tag = plainTag(out)
	}
	return nil
}

// plainTag is the tag YAML gives out written as a plain scalar: a number,
// boolean or null keeps that type; anything else, including any multi-line
// text, is a string.
func plainTag(out string) string {
	if strings.ContainsAny(out, "\n\r") {
		return yaml.NodeTagString
	}
	probe := yaml.Node{Kind: yaml.ScalarNode, Value: out}
	switch tag := probe.ShortTag(); tag {
	case yaml.NodeTagInt, yaml.NodeTagFloat, yaml.NodeTagBool, yaml.NodeTagNull:
		return tag
	}
	return yaml.NodeTagString
}

// uniqueKeys refuses a mapping whose keys became equal by substitution.
func uniqueKeys(n *yaml.Node, field string) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if seen[k] {
			return fmt.Errorf("%w: two keys of %s are equal after substitution: make them distinct", ErrInvalidSubstitution, fieldName(field))
		}
		seen[k] = true
	}
	return nil
}

// fieldError explains a failed expansion in field, naming the variable and
// never its value.
func fieldError(field string, err error) error {
	var ve *varError
	switch {
	case errors.As(err, &ve) && ve.undefined:
		return &UndefinedVariableError{Name: ve.name, Field: fieldName(field)}
	case errors.As(err, &ve) && ve.binary:
		return fmt.Errorf("%w: variable %s in %s has a value that is not UTF-8 text: substitute text values only",
			ErrInvalidSubstitution, ve.name, fieldName(field))
	}
	return fmt.Errorf("%w: %s holds a malformed ${...} expression: write ${NAME} or ${NAME:=default}, "+
		"escape a literal ${ as $${, or annotate the object %s: %s", ErrInvalidSubstitution, fieldName(field),
		SubstituteDisabledAnnotation, SubstituteDisabledValue)
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func fieldName(field string) string {
	if field == "" {
		return "the object"
	}
	return "field " + field
}

// substitutionDisabled reports whether the object opts out of substitution.
func substitutionDisabled(n *yaml.RNode) bool {
	return n.GetAnnotations()[SubstituteDisabledAnnotation] == SubstituteDisabledValue
}
