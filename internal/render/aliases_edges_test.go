package render

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// expandedSize is the size of doc's first document with its aliases
// expanded, under budget.
func expandedSize(t *testing.T, doc string, budget int) (int, bool) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	e := expansion{memo: map[*yaml.Node]int{}, active: map[*yaml.Node]bool{}, budget: budget}
	return e.size(&n)
}

func TestExpansionSize(t *testing.T) {
	tests := []struct {
		name, doc string
		want      int
	}{
		// document, mapping, key, value
		{name: "one-pair", doc: "a: b\n", want: 4},
		// document, mapping, key a, the sequence and its 2 items, key b,
		// and the alias counted as the sequence it names (3)
		{name: "alias-counts-what-it-names", doc: "a: &x [1, 2]\nb: *x\n", want: 10},
		// b is a sequence holding two aliases of three nodes each
		{name: "aliases-multiply", doc: "a: &x [1, 2]\nb: [*x, *x]\n", want: 14},
		{name: "alias-to-a-scalar", doc: "a: &s v\nb: *s\nc: *s\n", want: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := expandedSize(t, tt.doc, 1000)
			if !ok || got != tt.want {
				t.Fatalf("size = %d, %t; want %d within the budget", got, ok, tt.want)
			}
			if _, ok := expandedSize(t, tt.doc, tt.want); !ok {
				t.Errorf("a budget of exactly %d is refused", tt.want)
			}
			if _, ok := expandedSize(t, tt.doc, tt.want-1); ok {
				t.Errorf("a budget of %d is accepted for %d nodes", tt.want-1, tt.want)
			}
		})
	}
}

func TestCheckAliases(t *testing.T) {
	tests := []struct {
		name, data string
		refused    bool
	}{
		{name: "no-alias", data: configMap},
		{name: "star-in-a-string-is-no-alias", data: "a: '*'\nb: \"x*y\"\n"},
		{name: "broken-yaml-left-to-the-parser", data: "a: *undefined\n"},
		{name: "small-aliases", data: "a: &x [1]\nb: *x\n"},
		{name: "bomb-in-the-second-document", data: configMap + "---\n" + aliasBomb, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkAliases("f.yaml", []byte(tt.data))
			if !tt.refused {
				if err != nil {
					t.Fatalf("got %v, want the file accepted", err)
				}
				return
			}
			var re *Error
			if !errors.As(err, &re) || !errors.Is(err, ErrTooLarge) || re.Path != "f.yaml" {
				t.Fatalf("got %v, want an *Error at f.yaml wrapping ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "document 2:") {
				t.Errorf("the message does not name the document: %v", err)
			}
		})
	}
}

func TestCountObjects(t *testing.T) {
	old := maxObjects
	maxObjects = 5
	t.Cleanup(func() { maxObjects = old })
	g := &guard{}
	if err := g.countObjects("a.yaml", 3); err != nil {
		t.Fatal(err)
	}
	if err := g.countObjects("b.yaml", 2); err != nil {
		t.Fatalf("exactly the maximum is refused: %v", err)
	}
	err := g.countObjects("c.yaml", 1)
	var re *Error
	if !errors.As(err, &re) || !errors.Is(err, ErrTooLarge) || re.Path != "c.yaml" {
		t.Fatalf("got %v, want an *Error at c.yaml wrapping ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), "more than 5 objects (this file brings the count to 6)") {
		t.Errorf("message = %v", err)
	}
}

func TestErrorLocation(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"line-without-path-is-dropped", &Error{Line: 4, Err: ErrInvalidYAML}, "render invalid YAML"},
		{"negative-line-is-dropped", &Error{Path: "a.yaml", Line: -1, Err: ErrInvalidYAML}, "render a.yaml: invalid YAML"},
		{"object-without-path", &Error{Object: "ConfigMap cm", Err: ErrDuplicate}, "render ConfigMap cm: duplicate object"},
		{"no-cause", &Error{Path: "a.yaml", Line: 2}, "render a.yaml:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	wrapped := &Error{Path: "a.yaml", Err: &UndefinedVariableError{Name: "X", Field: "field a"}}
	var ve *UndefinedVariableError
	if !errors.As(wrapped, &ve) || ve.Name != "X" || !errors.Is(wrapped, ErrUndefinedVariable) {
		t.Errorf("an *Error does not unwrap to its *UndefinedVariableError: %v", wrapped)
	}
}
