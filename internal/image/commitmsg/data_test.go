package commitmsg_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
	"github.com/flotilla-io/flotilla/internal/image/setters"
)

// threeFiles changes three files, two objects in one of them, given out of
// order so the test sees the ordering Render promises.
var threeFiles = commitmsg.Data{
	AutomationObject: types.NamespacedName{Namespace: "fleet", Name: "images"},
	Changed: setters.Result{FileChanges: map[string]setters.ObjectChanges{
		"z/last.yaml": {
			{Kind: "CronJob", Namespace: "ops", Name: "backup"}: {{OldValue: "backup:1", NewValue: "backup:2", Setter: "fleet:backup"}},
		},
		"a/first.yaml": {
			{Kind: "Deployment", Namespace: "shop", Name: "web"}: {
				{OldValue: "web:1", NewValue: "web:2", Setter: "fleet:web"},
				{OldValue: "sidecar:1", NewValue: "sidecar:3", Setter: "fleet:sidecar"},
			},
			{Kind: "Deployment", Namespace: "shop", Name: "api"}: {{OldValue: "api:1", NewValue: "api:2", Setter: "fleet:api"}},
		},
		"m/kustomization.yaml": {
			{Kind: "Kustomization"}: {{OldValue: "1.0", NewValue: "1.1", Setter: "fleet:tag:tag"}},
		},
	}},
}

func render(t *testing.T, tmpl string, d commitmsg.Data) string {
	t.Helper()
	got, err := commitmsg.Render(tmpl, d)
	if err != nil {
		t.Fatalf("Render(%q): %v", tmpl, err)
	}
	return got
}

// Changes come by file, then by object name, each object's changes in the
// order the setters made them, whatever order the maps hold.
func TestChangesAreOrderedByFileThenObject(t *testing.T) {
	got := render(t, `{{ range .Changed.Changes }}{{ .NewValue }} {{ end }}`, threeFiles)
	if want := "api:2 web:2 sidecar:3 1.1 backup:2\n"; got != want {
		t.Errorf("changes %q, want %q", got, want)
	}
	for range 20 { // map order changes from run to run; the message does not
		if again := render(t, `{{ range .Changed.Changes }}{{ .NewValue }} {{ end }}`, threeFiles); again != got {
			t.Fatalf("a second render gave %q, the first %q", again, got)
		}
	}
}

func TestFilesAreSorted(t *testing.T) {
	got := render(t, `{{ join "," .Changed.Files }}`, threeFiles)
	if want := "a/first.yaml,m/kustomization.yaml,z/last.yaml\n"; got != want {
		t.Errorf("files %q, want %q", got, want)
	}
}

// An object prints as Kind/namespace/name, without an empty namespace,
// and ranging over .Changed.Objects visits them in key order.
func TestObjectsPrintAsKindNamespaceName(t *testing.T) {
	got := render(t, `{{ range $obj, $changes := .Changed.Objects }}{{ $obj }}={{ len $changes }};{{ end }}`, threeFiles)
	want := "CronJob/ops/backup=1;Deployment/shop/api=1;Deployment/shop/web=2;Kustomization/=1;\n"
	if got != want {
		t.Errorf("objects %q, want %q", got, want)
	}
}

// The default template lists every change with its setter and every file.
func TestDefaultTemplateWithManyFiles(t *testing.T) {
	want := `Update images of fleet/images

- api:1 -> api:2 (fleet:api)
- web:1 -> web:2 (fleet:web)
- sidecar:1 -> sidecar:3 (fleet:sidecar)
- 1.0 -> 1.1 (fleet:tag:tag)
- backup:1 -> backup:2 (fleet:backup)

Files:
- a/first.yaml
- m/kustomization.yaml
- z/last.yaml
`
	if diff := cmp.Diff(want, render(t, "", threeFiles)); diff != "" {
		t.Errorf("default message (-want +got):\n%s", diff)
	}
}

// With nothing changed the default template still says what it is about.
func TestDefaultTemplateWithNoChanges(t *testing.T) {
	d := commitmsg.Data{AutomationObject: types.NamespacedName{Namespace: "fleet", Name: "images"}}
	if got, want := render(t, "   \n\t", d), "Update images of fleet/images\n\n\nFiles:\n"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// Templates may define and call named templates, use with/else and
// range over the message values, which come in key order.
func TestTemplateControlStructures(t *testing.T) {
	d := threeFiles
	d.Values = map[string]string{"team": "shop", "env": "prod", "ticket": ""}
	tests := []struct{ name, tmpl, want string }{
		{"define and call", `{{ define "line" }}* {{ .OldValue }}=>{{ .NewValue }}{{ end }}{{ range .Changed.Changes }}{{ template "line" . }} {{ end }}`,
			"* api:1=>api:2 * web:1=>web:2 * sidecar:1=>sidecar:3 * 1.0=>1.1 * backup:1=>backup:2"},
		{"block with a default body", `{{ block "title" .AutomationObject }}images of {{ .Name }}{{ end }}`, "images of images"},
		{"with a set value", `{{ with .Values.team }}team {{ . }}{{ else }}no team{{ end }}`, "team shop"},
		{"with an empty value takes else", `{{ with .Values.ticket }}ticket {{ . }}{{ else }}no ticket{{ end }}`, "no ticket"},
		{"range over values in key order", `{{ range $k, $v := .Values }}{{ $k }}={{ $v }};{{ end }}`, "env=prod;team=shop;ticket=;"},
		{"index of a value", `{{ index .Values "env" }}`, "prod"},
		{"count of changes", `{{ len .Changed.Changes }} changes in {{ len .Changed.Files }} files`, "5 changes in 3 files"},
		{"if on an empty result", `{{ if .Changed.Empty }}nothing{{ else }}something{{ end }}`, "something"},
		{"a setter's policy name", `{{ range .Changed.Changes }}{{ index (split ":" .Setter) 1 }} {{ end }}`, "api web sidecar tag backup"},
		{"first change only", `{{ with index .Changed.Changes 0 }}{{ .NewValue }}{{ end }}`, "api:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, tt.tmpl, d); got != tt.want+"\n" {
				t.Errorf("message %q, want %q", got, tt.want+"\n")
			}
		})
	}
}

// Errors name the template and what went wrong, and every one wraps
// ErrTemplate so the controller can mark the ImageUpdate Stalled.
func TestErrorsNameTheProblem(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{"unclosed action", `{{ .Values.env`, "unclosed action"},
		{"unknown function", `{{ shout "x" }}`, `function "shout" not defined`},
		{"index past the end", `{{ index .Changed.Changes 9 }}`, "index out of range"},
		{"unknown field of a change", `{{ range .Changed.Changes }}{{ .Digest }}{{ end }}`, "can't evaluate field Digest"},
		{"unknown template", `{{ template "nope" . }}`, `template "nope" not defined`},
		{"unexpected end", `{{ end }}`, "unexpected {{end}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := commitmsg.Render(tt.tmpl, threeFiles)
			if !errors.Is(err, commitmsg.ErrTemplate) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want ErrTemplate naming %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "commit message template: ") {
				t.Errorf("error %q does not start with what failed", err)
			}
		})
	}
}

// A message with many changes renders in full while it stays under the
// size bound.
func TestLargeButBoundedMessages(t *testing.T) {
	files := map[string]setters.ObjectChanges{}
	for i := range 300 {
		obj := setters.ObjectIdentifier{Kind: "Deployment", Namespace: "apps", Name: fmt.Sprintf("svc-%03d", i)}
		files[fmt.Sprintf("apps/svc-%03d.yaml", i)] = setters.ObjectChanges{obj: {{OldValue: "img:1", NewValue: "img:2", Setter: "apps:svc"}}}
	}
	got := render(t, "", commitmsg.Data{Changed: setters.Result{FileChanges: files}})
	if n := strings.Count(got, "- img:1 -> img:2 (apps:svc)\n"); n != 300 {
		t.Errorf("%d change lines, want 300", n)
	}
	if !strings.Contains(got, "- apps/svc-000.yaml\n") || !strings.HasSuffix(got, "- apps/svc-299.yaml\n") {
		t.Errorf("the file list is not complete and in order:\n%s", got[len(got)-200:])
	}
	if len(got) > commitmsg.MaxMessageSize {
		t.Errorf("message of %d bytes passed the bound", len(got))
	}
}
