package render

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"NAME": "web", "EMPTY": "", "TAG": "1.2", "_x1": "under", "BINARY": "\xcc"}
	tests := []struct {
		name, in, want string
		err            error
	}{
		{name: "no-expression", in: "plain text $HOME $ {NAME}", want: "plain text $HOME $ {NAME}"},
		{name: "variable", in: "app-${NAME}", want: "app-web"},
		{name: "two-variables", in: "${NAME}:${TAG}", want: "web:1.2"},
		{name: "underscore-and-digits", in: "${_x1}", want: "under"},
		{name: "default-unused", in: "${NAME:=other}", want: "web"},
		{name: "default-used", in: "${MISSING:=fallback}", want: "fallback"},
		{name: "empty-default", in: "[${MISSING:=}]", want: "[]"},
		{name: "default-with-colons", in: "${MISSING:=a:=b:c}", want: "a:=b:c"},
		{name: "defined-empty-wins-over-default", in: "[${EMPTY:=x}]", want: "[]"},
		{name: "escape", in: "$${NAME}", want: "${NAME}"},
		{name: "escape-keeps-inner-expressions", in: "$${A:=${NAME}}", want: "${A:=${NAME}}"},
		{name: "escape-without-brace", in: "$${open", want: "${open"},
		{name: "escape-then-variable", in: "$${NAME}=${NAME}", want: "${NAME}=web"},
		{name: "dollar-dollar-without-brace", in: "$$NAME", want: "$$NAME"},
		{name: "undefined", in: "${MISSING}", err: ErrUndefinedVariable},
		{name: "unterminated", in: "${NAME", err: ErrInvalidSubstitution},
		{name: "empty-name", in: "${}", err: ErrInvalidSubstitution},
		{name: "leading-digit", in: "${1X}", err: ErrInvalidSubstitution},
		{name: "bash-default-syntax", in: "${NAME:-x}", err: ErrInvalidSubstitution},
		{name: "space-in-name", in: "${ NAME}", err: ErrInvalidSubstitution},
		{name: "value-not-utf8", in: "${BINARY}", err: ErrInvalidSubstitution},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand(tt.in, vars)
			if tt.err != nil {
				if err == nil || !errors.Is(fieldError("x", err), tt.err) {
					t.Fatalf("got %q, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubstituteKeepsStructure(t *testing.T) {
	vars := map[string]string{
		"N":     "3",
		"B":     "true",
		"F":     "1.5",
		"YAML":  "a: b\nc: [d]",
		"FLOW":  "{x: 1}",
		"HASH":  "value # not a comment",
		"QUOTE": `it's "quoted"`,
		"EMPTY": "",
		"KEY":   "dynamic",
	}
	in := `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  labels:
    ${KEY}: "yes"
data:
  number: ${N}
  quotedNumber: "${N}"
  singleQuoted: '${N}'
  explicitString: !!str ${N}
  boolean: ${B}
  float: ${F}
  mixed: n=${N}
  yaml: ${YAML}
  flow: ${FLOW}
  hash: ${HASH}
  quote: ${QUOTE}
  empty: ${EMPTY}
  block: |
    ${N}
  list:
  - ${N}
  - "${N}"
`
	want := map[string]interface{}{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]interface{}{"name": "cm", "labels": map[string]interface{}{"dynamic": "yes"}},
		"data": map[string]interface{}{
			"number":         3,
			"quotedNumber":   "3",
			"singleQuoted":   "3",
			"explicitString": "3",
			"boolean":        true,
			"float":          1.5,
			"mixed":          "n=3",
			"yaml":           "a: b\nc: [d]",
			"flow":           "{x: 1}",
			"hash":           "value # not a comment",
			"quote":          `it's "quoted"`,
			"empty":          nil,
			"block":          "3\n",
			"list":           []interface{}{3, "3"},
		},
	}
	n := yaml.MustParse(in)
	if err := substitute(n, vars); err != nil {
		t.Fatal(err)
	}
	got, err := n.Map()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSubstituteErrors(t *testing.T) {
	tests := []struct {
		name, in string
		is       error
		want     string
	}{
		{
			name: "undefined-names-variable-and-field",
			in:   "metadata:\n  name: x\nspec:\n  containers:\n  - image: app:${TAG}\n",
			is:   ErrUndefinedVariable,
			want: "undefined variable: variable TAG in field spec.containers[0].image has no value: add TAG to the Stack's postBuild.substitute, or give it a default: ${TAG:=default}",
		},
		{
			name: "malformed",
			in:   "data:\n  script: echo ${1}\n",
			is:   ErrInvalidSubstitution,
			want: "invalid substitution: field data.script holds a malformed ${...} expression: write ${NAME} or ${NAME:=default}, escape a literal ${ as $${, or annotate the object flotilla.io/substitute: disabled",
		},
		{
			name: "keys-collide",
			in:   "data:\n  ${A}: one\n  ${B}: two\n",
			is:   ErrInvalidSubstitution,
			want: "invalid substitution: two keys of field data are equal after substitution: make them distinct",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := substitute(yaml.MustParse(tt.in), map[string]string{"A": "s3cr3t-same", "B": "s3cr3t-same"})
			if !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want %v", err, tt.is)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestBuildSubstitutionErrors(t *testing.T) {
	secrets := []string{"s3cr3t-value-one", "s3cr3t-value-two"}
	vars := map[string]string{"ONE": secrets[0], "TWO": secrets[1]}
	withVars := func(contents map[string]string) func(t *testing.T) Options {
		return with(files(contents, ""), func(o *Options) { o.Substitute = vars })
	}
	runErrorCases(t, []errorCase{
		{
			name: "undefined-variable-names-object-and-file",
			opts: withVars(map[string]string{
				"kustomization.yaml": "resources: [app/cm.yaml]\n",
				"app/cm.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: shop\ndata:\n  a: ${ONE}\n  b: ${MISSING}\n",
			}),
			is: ErrUndefinedVariable, path: "app/cm.yaml", object: "ConfigMap shop/cm",
			contains: []string{"variable MISSING in field data.b", "postBuild.substitute"},
			secrets:  secrets,
		},
		{
			name: "keys-made-equal-by-values",
			opts: withVars(map[string]string{
				"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  ${ONE}: a\n  ${ONE:=x}: b\n",
			}),
			is: ErrInvalidSubstitution, path: "cm.yaml", object: "ConfigMap cm",
			secrets: secrets,
		},
		{
			name: "substitution-removing-the-name",
			opts: with(files(map[string]string{
				"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${NAME}\n",
			}, ""), func(o *Options) { o.Substitute = map[string]string{"NAME": ""} }),
			is: ErrInvalidYAML, path: "cm.yaml", object: "ConfigMap ${NAME}",
		},
		{
			name: "generated-object-names-its-kustomization",
			opts: withVars(map[string]string{
				"kustomization.yaml": "configMapGenerator:\n- name: settings\n  literals:\n  - URL=${MISSING}\n",
			}),
			is: ErrUndefinedVariable, path: "kustomization.yaml",
			object:   "ConfigMap settings-2m55tkg7fd",
			contains: []string{"variable MISSING in field data.URL"},
		},
	})
}

func TestSubstituteEmptyVarsStillAppliesDefaultsAndRefusesUndefined(t *testing.T) {
	n, err := yaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: ${A:=dflt}\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := substitute(n, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.GetString("data.a"); got != "dflt" {
		t.Errorf("data.a = %q, want the default", got)
	}
	n, _ = yaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  b: ${UNSET}\n")
	if err := substitute(n, map[string]string{}); err == nil {
		t.Error("an undefined variable must be an error even when no variable is set")
	}
	if err := substitute(n, nil); err != nil {
		t.Errorf("nil vars means no substitution: %v", err)
	}
}

func TestUndefinedVariableErrorNamesTheVariable(t *testing.T) {
	err := substitute(yaml.MustParse("data:\n  a: ${FIRST_MISSING}\n"), map[string]string{})
	var ve *UndefinedVariableError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want an *UndefinedVariableError", err)
	}
	if ve.Name != "FIRST_MISSING" || ve.Field != "field data.a" || !errors.Is(err, ErrUndefinedVariable) {
		t.Errorf("got %+v (is ErrUndefinedVariable: %v)", ve, errors.Is(err, ErrUndefinedVariable))
	}
}
