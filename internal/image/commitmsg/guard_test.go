package commitmsg_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
)

// Each template below ranges over a number by a way around the literal
// check: with 1000000000000 in place of 5 it would loop for ever without
// writing (so the size bound never stops it). Before the fix each rendered
// "xxxxx".
func TestRangeOverANumberIsRefusedWhateverHoldsIt(t *testing.T) {
	tests := []struct {
		name, tmpl, wantErr string
	}{
		{name: "variable declared by with", tmpl: `{{ with $n := 5 }}{{ range $n }}x{{ end }}{{ end }}`, wantErr: "range over $n, a number"},
		{name: "variable declared by if", tmpl: `{{ if $n := 5 }}{{ range $n }}x{{ end }}{{ end }}`, wantErr: "range over $n, a number"},
		{name: "variable declared by if, used in else", tmpl: `{{ if $n := 0 }}{{ else }}{{ range $n }}x{{ end }}{{ end }}`, wantErr: "range over $n, a number"},
		{name: "dot set to a number by with", tmpl: `{{ with 5 }}{{ range . }}x{{ end }}{{ end }}`, wantErr: "range over a number"},
		{name: "dot set by with from a numeric variable", tmpl: `{{ $n := 5 }}{{ with $n }}{{ range . }}x{{ end }}{{ end }}`, wantErr: "range over a number"},
		{name: "number in a parenthesised pipeline", tmpl: `{{ range (5) }}x{{ end }}`, wantErr: "range over a number"},
		{name: "numeric variable in a parenthesised pipeline", tmpl: `{{ $n := 5 }}{{ range ($n) }}x{{ end }}`, wantErr: "range over a number"},
		{name: "copied into another variable", tmpl: `{{ $n := 5 }}{{ $m := $n }}{{ range $m }}x{{ end }}`, wantErr: "range over $m, a number"},
		{name: "range in a defined template", tmpl: `{{ define "loop" }}{{ range 5 }}x{{ end }}{{ end }}{{ template "loop" }}`, wantErr: "range over a number"},
		{name: "range in a block", tmpl: `{{ block "loop" . }}{{ range 5 }}x{{ end }}{{ end }}`, wantErr: "range over a number"},
		{name: "number passed to a template as dot", tmpl: `{{ define "loop" }}{{ range . }}x{{ end }}{{ end }}{{ template "loop" 5 }}`, wantErr: `passing a number to template "loop"`},
		{name: "numeric variable passed to a template", tmpl: `{{ define "loop" }}{{ range . }}x{{ end }}{{ end }}{{ $n := 5 }}{{ template "loop" $n }}`, wantErr: `passing a number to template "loop"`},
		{name: "reassigned with = inside if", tmpl: `{{ $n := "x" }}{{ if true }}{{ $n = 5 }}{{ end }}{{ range $n }}x{{ end }}`, wantErr: "range over $n, a number"},
		{name: "reassigned with = after the range, in a loop", tmpl: `{{ $n := "" }}{{ range .Changed.Changes }}{{ range $n }}x{{ end }}{{ $n = 5 }}{{ end }}`, wantErr: "range over $n, a number"},
		{name: "reassigned from a numeric dot", tmpl: `{{ $n := "" }}{{ with 5 }}{{ $n = . }}{{ end }}{{ range $n }}x{{ end }}`, wantErr: "range over $n, a number"},
		{name: "shadowed inside if, the outer number is back after end", tmpl: `{{ $n := 5 }}{{ if true }}{{ $n := "x" }}{{ end }}{{ range $n }}x{{ end }}`, wantErr: "range over $n, a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := commitmsg.Render(tt.tmpl, data)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, commitmsg.ErrTemplate) {
				t.Fatalf("Render = %q, %v; want an ErrTemplate containing %q", got, err, tt.wantErr)
			}
		})
	}
}

// The guard must not refuse what ranges over data, however it is held.
func TestRangeOverDataThroughVariablesAndTemplatesIsAllowed(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{name: "a variable holding data", tmpl: `{{ $c := .Changed.Changes }}{{ range $c }}{{ .NewValue }} {{ end }}`,
			want: "docker.io/org/app:1.0.1 1.25.5\n"},
		{name: "a variable reassigned with data", tmpl: `{{ $f := "" }}{{ $f = .Changed.Files }}{{ range $f }}{{ . }} {{ end }}`,
			want: "apps/my-app/deployment.yaml apps/web/kustomization.yaml\n"},
		{name: "a number declared inside if does not leak out", tmpl: `{{ $c := .Changed.Files }}{{ if true }}{{ $c := 5 }}{{ $c }}{{ end }} {{ range $c }}{{ . }} {{ end }}`,
			want: "5 apps/my-app/deployment.yaml apps/web/kustomization.yaml\n"},
		{name: "dot is data again inside a range under a numeric with", tmpl: `{{ with 2 }}{{ range $.Changed.Changes }}{{ range split ":" .NewValue }}[{{ . }}]{{ end }}{{ end }}{{ end }}`,
			want: "[docker.io/org/app][1.0.1][1.25.5]\n"},
		{name: "a defined template called with data", tmpl: `{{ define "list" }}{{ range . }}- {{ .Setter }}
{{ end }}{{ end }}{{ template "list" .Changed.Changes }}`,
			want: "- flux-system:app\n- flux-system:nginx:tag\n"},
		{name: "with over data sets dot to data", tmpl: `{{ with .Changed.Files }}{{ range . }}{{ . }};{{ end }}{{ end }}`,
			want: "apps/my-app/deployment.yaml;apps/web/kustomization.yaml;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := commitmsg.Render(tt.tmpl, data)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}
