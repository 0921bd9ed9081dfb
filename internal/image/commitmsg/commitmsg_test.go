package commitmsg_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
	"github.com/flotilla-io/flotilla/internal/image/setters"
)

var data = commitmsg.Data{
	AutomationObject: types.NamespacedName{Namespace: "flux-system", Name: "apps"},
	Changed: setters.Result{FileChanges: map[string]setters.ObjectChanges{
		"apps/my-app/deployment.yaml": {
			{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "my-app"}: {
				{OldValue: "docker.io/org/app:1.0.0", NewValue: "docker.io/org/app:1.0.1", Setter: "flux-system:app"},
			},
		},
		"apps/web/kustomization.yaml": {
			{Kind: "Kustomization"}: {
				{OldValue: "1.25.4", NewValue: "1.25.5", Setter: "flux-system:nginx:tag"},
			},
		},
	}},
	Values: map[string]string{"env": "staging"},
}

// Templates as Flux's image-automation documentation writes them.
const (
	fluxChangesAndFiles = `Automated image update

Changes:
{{ range .Changed.Changes -}}
- {{ .OldValue }} -> {{ .NewValue }}
{{ end -}}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}
`
	fluxObjects = `Automated image update

Automation name: {{ .AutomationObject }}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
{{ if eq $resource.Kind "Deployment" -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
{{ end -}}
`
	fluxValues = `[{{ .Values.env }}] {{ upper "image" }} update by {{ .AutomationObject.Name }}`
)

func TestRenderFluxTemplates(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{name: "changes and files", tmpl: fluxChangesAndFiles, want: `Automated image update

Changes:
- docker.io/org/app:1.0.0 -> docker.io/org/app:1.0.1
- 1.25.4 -> 1.25.5
Files:
- apps/my-app/deployment.yaml
- apps/web/kustomization.yaml
`},
		{name: "objects", tmpl: fluxObjects, want: `Automated image update

Automation name: flux-system/apps

Objects:
- Deployment my-app
  Changes:
    - docker.io/org/app:1.0.0 -> docker.io/org/app:1.0.1
`},
		{name: "values and helpers", tmpl: fluxValues, want: "[staging] IMAGE update by apps\n"},
		{name: "default", tmpl: "", want: `Update images of flux-system/apps

- docker.io/org/app:1.0.0 -> docker.io/org/app:1.0.1 (flux-system:app)
- 1.25.4 -> 1.25.5 (flux-system:nginx:tag)

Files:
- apps/my-app/deployment.yaml
- apps/web/kustomization.yaml
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := commitmsg.Render(tt.tmpl, data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderIsHermetic(t *testing.T) {
	t.Setenv("FLOTILLA_CANARY", "canary-value-in-env")
	tests := []struct {
		name, tmpl, wantErr string
	}{
		{name: "sprig env is not there", tmpl: `{{ env "FLOTILLA_CANARY" }}`, wantErr: `function "env" not defined`},
		{name: "sprig expandenv is not there", tmpl: `{{ expandenv "$FLOTILLA_CANARY" }}`, wantErr: `function "expandenv" not defined`},
		{name: "no file reads", tmpl: `{{ readFile "/etc/passwd" }}`, wantErr: `function "readFile" not defined`},
		{name: "range over a number", tmpl: `{{ range 1000000000000 }}x{{ end }}`, wantErr: "range over a number is refused"},
		{name: "range over a variable holding a number", tmpl: `{{ $n := 99999999999 }}{{ range $n }}{{ end }}`, wantErr: "range over $n, a number, is refused"},
		{name: "huge printf width", tmpl: `{{ printf "%999999999d" 1 }}`, wantErr: "widths of 1000 or more"},
		{name: "message too long", tmpl: `{{ range .Changed.Changes }}{{ printf "%900s" "" }}{{ printf "%900s" "" }}{{ end }}` + strings.Repeat("{{ range .Changed.Changes }}{{ printf \"%900s\" \"\" }}{{ end }}", 40), wantErr: "longer than"},
		{name: "unparsable", tmpl: `{{ .Changed `, wantErr: "commit message template"},
		{name: "empty result", tmpl: `{{ "" }}`, wantErr: "the message is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := commitmsg.Render(tt.tmpl, data)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, commitmsg.ErrTemplate) {
				t.Fatalf("Render = %q, %v; want an ErrTemplate containing %q", got, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), os.Getenv("FLOTILLA_CANARY")) {
				t.Fatal("the environment reached the message")
			}
		})
	}
}

func TestRangeOverDataLengthIsAllowed(t *testing.T) {
	got, err := commitmsg.Render(`{{ $n := len .Changed.Changes }}{{ range $i, $c := .Changed.Changes }}{{ $i }}/{{ $n }} {{ trunc 6 $c.NewValue }} {{ end }}`, data)
	if err != nil {
		t.Fatal(err)
	}
	if got != "0/2 docker 1/2 1.25.5\n" {
		t.Errorf("message = %q", got)
	}
}
