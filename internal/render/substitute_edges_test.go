package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestVarErrorMessages(t *testing.T) {
	tests := []struct {
		err  *varError
		want string
	}{
		{&varError{name: "TAG", undefined: true}, "variable TAG is not defined"},
		{&varError{name: "BLOB", binary: true}, "variable BLOB is not UTF-8 text"},
		{&varError{}, "malformed ${...} expression"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"A": true, "_": true, "a1": true, "CLUSTER_NAME": true, "_9": true, "Ünïcode": false,
		"": false, "1A": false, "A-B": false, "A.B": false, "A B": false, "A$": false, "9": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %t, want %t", name, got, want)
		}
	}
}

func TestExpandEdges(t *testing.T) {
	vars := map[string]string{"A": "${B}", "B": "b", "DOLLAR": "$", "BRACE": "}", "EMPTY": ""}
	tests := []struct {
		name, in, want string
		err            error
	}{
		// A value is inserted as it is: an expression in it is not expanded again.
		{name: "values-are-not-expanded-again", in: "${A}", want: "${B}"},
		{name: "value-ending-in-dollar-before-brace", in: "${DOLLAR}{B}", want: "${B}"},
		{name: "value-holding-a-brace", in: "x${BRACE}y", want: "x}y"},
		{name: "default-ends-at-the-first-brace", in: "${MISSING:=a}b}", want: "ab}"},
		{name: "default-holding-dollar", in: "${MISSING:=$HOME}", want: "$HOME"},
		{name: "default-may-not-nest", in: "${MISSING:=${B}}", want: "${B}"},
		{name: "empty-value-in-text", in: "a${EMPTY}b", want: "ab"},
		{name: "lone-dollar-at-end", in: "cost: 5$", want: "cost: 5$"},
		{name: "escaped-and-unterminated", in: "$${", want: "${"},
		{name: "triple-dollar-escapes-then-expands-nothing", in: "$$${B}", want: "$${B}"},
		{name: "adjacent-expressions", in: "${B}${B}${B}", want: "bbb"},
		{name: "expression-after-unterminated-escape", in: "$${x ${B}", want: "${x ${B}"},
		{name: "undefined-after-defined", in: "${B}-${C}", err: ErrUndefinedVariable},
		{name: "malformed-after-defined", in: "${B}-${-}", err: ErrInvalidSubstitution},
		{name: "default-on-invalid-name", in: "${1:=x}", err: ErrInvalidSubstitution},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand(tt.in, vars)
			if tt.err != nil {
				if !errors.Is(fieldError("f", err), tt.err) {
					t.Fatalf("got %q, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPlainTag(t *testing.T) {
	tests := map[string]string{
		"3":          yaml.NodeTagInt,
		"-0":         yaml.NodeTagInt,
		"0x1F":       yaml.NodeTagInt,
		"1.5":        yaml.NodeTagFloat,
		"1e3":        yaml.NodeTagFloat,
		"true":       yaml.NodeTagBool,
		"False":      yaml.NodeTagBool,
		"null":       yaml.NodeTagNull,
		"~":          yaml.NodeTagNull,
		"":           yaml.NodeTagNull,
		"yes":        yaml.NodeTagString, // YAML 1.2: not a boolean
		"on":         yaml.NodeTagString,
		"2026-12-04": yaml.NodeTagString,
		"0.5.1":      yaml.NodeTagString,
		" 3":         yaml.NodeTagString,
		"3\n":        yaml.NodeTagString,
		"true\r":     yaml.NodeTagString,
		"a: b":       yaml.NodeTagString,
		"[1]":        yaml.NodeTagString,
	}
	for value, want := range tests {
		if got := plainTag(value); got != want {
			t.Errorf("plainTag(%q) = %s, want %s", value, got, want)
		}
	}
}

// substituted substitutes vars in doc and returns it as JSON.
func substituted(t *testing.T, doc string, vars map[string]string) string {
	t.Helper()
	n := yaml.MustParse(doc)
	if err := substitute(n, vars); err != nil {
		t.Fatal(err)
	}
	data, err := n.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSubstituteTyping(t *testing.T) {
	vars := map[string]string{"N": "3", "B": "true", "NULL": "null", "S": "text"}
	tests := []struct {
		name, doc, want string
	}{
		{name: "keys-stay-strings", doc: "${N}: a\n${B}: b\n", want: `{"3":"a","true":"b"}`},
		{name: "number-in-a-list", doc: "l:\n- ${N}\n- '${N}'\n- x${N}\n", want: `{"l":[3,"3","x3"]}`},
		{name: "null-value", doc: "k: ${NULL}\n", want: `{"k":null}`},
		{name: "double-quoted-boolean-stays-text", doc: "k: \"${B}\"\n", want: `{"k":"true"}`},
		{name: "folded-block-stays-text", doc: "k: >-\n  ${N}\n", want: `{"k":"3"}`},
		{name: "anchored-value-substituted-once-for-every-alias", doc: "a: &x ${N}\nb: *x\n", want: `{"a":3,"b":3}`},
		{name: "number-written-as-number-untouched", doc: "k: 42\n", want: `{"k":42}`},
		{name: "string-without-expression-keeps-its-type", doc: "k: '7'\n", want: `{"k":"7"}`},
		{name: "expression-unchanged-by-an-escape-stays-text", doc: "k: $${N}\n", want: `{"k":"${N}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, substituted(t, tt.doc, vars)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubstituteErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, doc, field string
	}{
		{name: "top-level-scalar-document", doc: "${MISSING}\n", field: "the object"},
		{name: "nested-lists", doc: "spec:\n  containers:\n  - name: a\n  - name: b\n    env:\n    - value: ${MISSING}\n", field: "field spec.containers[1].env[0].value"},
		{name: "list-of-lists", doc: "m:\n- - x\n  - ${MISSING}\n", field: "field m[0][1]"},
		{name: "key-names-its-own-path", doc: "data:\n  ${MISSING}: v\n", field: "field data.${MISSING}"},
		{name: "key-with-dots", doc: "metadata:\n  annotations:\n    example.com/x: ${MISSING}\n", field: "field metadata.annotations.example.com/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := substitute(yaml.MustParse(tt.doc), map[string]string{})
			var ve *UndefinedVariableError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want an *UndefinedVariableError", err)
			}
			if ve.Name != "MISSING" || ve.Field != tt.field {
				t.Errorf("got name %q field %q, want MISSING in %q", ve.Name, ve.Field, tt.field)
			}
		})
	}
}

func TestSubstituteStopsAtTheFirstError(t *testing.T) {
	doc := "a: ${FIRST}\nb: ${SECOND}\nc: ${OK}\n"
	n := yaml.MustParse(doc)
	err := substitute(n, map[string]string{"OK": "fine"})
	var ve *UndefinedVariableError
	if !errors.As(err, &ve) || ve.Name != "FIRST" {
		t.Fatalf("got %v, want FIRST reported first", err)
	}
	if got, _ := n.GetString("c"); got != "${OK}" {
		t.Errorf("c = %q: the fields after the error were substituted", got)
	}
}

func TestSubstituteBinaryValueNamesVariableNotValue(t *testing.T) {
	err := substitute(yaml.MustParse("data:\n  k: ${BLOB}\n"), map[string]string{"BLOB": "\xff\xfesecret"})
	if !errors.Is(err, ErrInvalidSubstitution) {
		t.Fatalf("got %v, want ErrInvalidSubstitution", err)
	}
	want := "invalid substitution: variable BLOB in field data.k has a value that is not UTF-8 text: substitute text values only"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Error(diff)
	}
}

func TestSubstitutionDisabled(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{SubstituteDisabledValue, true},
		{"Disabled", false},
		{"true", false},
		{"", false},
	}
	for _, tt := range tests {
		n := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    " +
			SubstituteDisabledAnnotation + ": \"" + tt.value + "\"\n")
		if got := substitutionDisabled(n); got != tt.want {
			t.Errorf("annotation %q: disabled = %t, want %t", tt.value, got, tt.want)
		}
	}
	if substitutionDisabled(yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")) {
		t.Error("an object without the annotation is disabled")
	}
}

func TestBuildSubstitutionEdges(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n"
	runErrorCases(t, []errorCase{
		{
			name: "undefined-in-nested-file-of-plain-directory",
			opts: with(files(map[string]string{
				"stack/apps/web/cm.yaml": cm + "data:\n  url: ${URL}\n",
				"stack/other.yaml":       strings.Replace(cm, "settings", "other", 1),
			}, "stack"), func(o *Options) { o.Substitute = map[string]string{} }),
			is: ErrUndefinedVariable, path: "stack/apps/web/cm.yaml", object: "ConfigMap shop/settings",
			contains: []string{"render stack/apps/web/cm.yaml: ConfigMap shop/settings: undefined variable: variable URL in field data.url"},
		},
		{
			name: "annotation-value-other-than-disabled-still-substitutes",
			opts: with(files(map[string]string{
				"cm.yaml": strings.Replace(cm, "  namespace: shop\n", "  namespace: shop\n  annotations:\n    flotilla.io/substitute: Disabled\n", 1) + "data:\n  k: ${UNSET}\n",
			}, ""), func(o *Options) { o.Substitute = map[string]string{} }),
			is: ErrUndefinedVariable, path: "cm.yaml", object: "ConfigMap shop/settings",
		},
		{
			name: "value-that-json-cannot-hold",
			opts: with(files(map[string]string{"cm.yaml": cm + "data:\n  k: ${V}\n"}, ""),
				func(o *Options) { o.Substitute = map[string]string{"V": ".inf"} }),
			is: ErrInvalidSubstitution, path: "cm.yaml", object: "ConfigMap shop/settings",
			contains: []string{"cannot be encoded after substitution"},
		},
		{
			name: "name-substituted-into-an-invalid-type",
			opts: with(files(map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${N}\n"}, ""),
				func(o *Options) { o.Substitute = map[string]string{"N": "null"} }),
			is: ErrInvalidYAML, path: "cm.yaml", object: "ConfigMap ${N}",
			contains: []string{"no apiVersion, kind or metadata.name"},
		},
	})
}

func TestBuildSubstitutionDisabledObjectKeepsExpressions(t *testing.T) {
	disabled := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\n  annotations:\n    flotilla.io/substitute: disabled\n" +
		"data:\n  run.sh: echo ${HOME} ${1} ${UNSET}\n"
	enabled := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  k: ${SET}\n"
	root := writeTree(t, map[string]string{"stack/a.yaml": disabled, "stack/b.yaml": enabled})
	objs, err := buildBoth(t, Options{Root: root, Path: "stack", Substitute: map[string]string{"SET": "v", "HOME": "/root"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, o := range objs {
		got[o.GetName()] = o.Object["data"]
	}
	want := map[string]any{
		"script": map[string]any{"run.sh": "echo ${HOME} ${1} ${UNSET}"},
		"plain":  map[string]any{"k": "v"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if ann := find(objs, "ConfigMap", "script").GetAnnotations(); ann[SubstituteDisabledAnnotation] != SubstituteDisabledValue {
		t.Errorf("the opt-out annotation was removed: %v", ann)
	}
}

func TestBuildWithoutVariablesLeavesExpressions(t *testing.T) {
	root := writeTree(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${UNSET}\n  b: ${1}\n"})
	objs, err := buildBoth(t, Options{Root: root})
	if err != nil {
		t.Fatalf("with Substitute nil no expression is an error: %v", err)
	}
	want := map[string]any{"a": "${UNSET}", "b": "${1}"}
	if diff := cmp.Diff(want, objs[0].Object["data"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
