package commitmsg_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
	"github.com/flotilla-io/flotilla/internal/image/setters"
)

// TestTemplateFunctions renders each string helper with the argument order
// sprig uses (the subject last, so it can be piped).
func TestTemplateFunctions(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{"upper", `{{ upper "podinfo" }}`, "PODINFO"},
		{"lower", `{{ "PodInfo" | lower }}`, "podinfo"},
		{"trim", `[{{ trim "  a b  " }}]`, "[a b]"},
		{"trimPrefix takes the prefix first", `{{ trimPrefix "docker.io/" "docker.io/org/app" }}`, "org/app"},
		{"trimPrefix leaves a string without the prefix", `{{ trimPrefix "ghcr.io/" "docker.io/org/app" }}`, "docker.io/org/app"},
		{"trimSuffix", `{{ "app.yaml" | trimSuffix ".yaml" }}`, "app"},
		{"replace takes old, new, subject", `{{ replace ":" " at " "app:1.0" }}`, "app at 1.0"},
		{"replace replaces every occurrence", `{{ replace "a" "o" "banana" }}`, "bonono"},
		{"contains takes the substring first", `{{ if contains "nginx" "docker.io/nginx:1" }}yes{{ else }}no{{ end }}`, "yes"},
		{"hasPrefix", `{{ if hasPrefix "docker.io" "ghcr.io/x" }}yes{{ else }}no{{ end }}`, "no"},
		{"hasSuffix", `{{ if "deploy.yaml" | hasSuffix ".yaml" }}yes{{ end }}`, "yes"},
		{"split then join", `{{ split "/" "a/b/c" | join "," }}`, "a,b,c"},
		{"join of no files", `files:{{ join "," .Changed.Files }}.`, "files:."},
		{"quote escapes quotes", `{{ quote "say \"hi\"" }}`, `"say \"hi\""`},
		{"default fills an empty value", `{{ .Values.missing | default "none" }}`, "none"},
		{"default keeps a set value", `{{ .Values.env | default "none" }}`, "prod"},
		{"indent pads every line", `{{ indent 2 "a\nb" }}`, "a\n  b"},
		{"nindent starts a new line", `x:{{ nindent 4 "a\nb" }}`, "x:\n    a\n    b"},
		{"indent of a negative width pads nothing", `{{ indent -3 "a\nb" }}`, "a\nb"},
		{"trunc cuts to n bytes", `{{ trunc 7 "sha256:abcdef" }}`, "sha256:"},
		{"trunc longer than the string keeps it", `{{ trunc 100 "short" }}`, "short"},
		{"trunc of a negative length keeps the string", `{{ trunc -1 "short" }}`, "short"},
		{"printf with a small width", `[{{ printf "%5s" "ab" }}]`, "[   ab]"},
		{"printf with a precision under 1000", `{{ printf "%.3s" "abcdef" }}`, "abc"},
		{"a missing value is empty", `[{{ .Values.nope }}]`, "[]"},
		{"automation object prints as namespace/name", `{{ .AutomationObject }}`, "apps/fleet"},
	}
	d := commitmsg.Data{AutomationObject: types.NamespacedName{Namespace: "apps", Name: "fleet"}, Values: map[string]string{"env": "prod"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := commitmsg.Render(tt.tmpl, d)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSpace(tt.want) + "\n"; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
		})
	}
}

func TestIndentIsBoundedTo64Spaces(t *testing.T) {
	got, err := commitmsg.Render(`x{{ indent 100000 "a" }}`, commitmsg.Data{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "x" + strings.Repeat(" ", 64) + "a\n"; got != want {
		t.Errorf("message = %q, want 64 spaces of padding", got)
	}
}

func TestEmptyTemplateIsTheDefault(t *testing.T) {
	d := commitmsg.Data{
		AutomationObject: types.NamespacedName{Namespace: "apps", Name: "fleet"},
		Changed: setters.Result{FileChanges: map[string]setters.ObjectChanges{
			"b.yaml": {{Kind: "Deployment", Name: "b"}: {{OldValue: "r/b:1", NewValue: "r/b:2", Setter: "apps:b"}}},
			"a.yaml": {{Kind: "Deployment", Name: "a"}: {{OldValue: "1.0", NewValue: "1.1", Setter: "apps:a:tag"}}},
		}},
	}
	want := `Update images of apps/fleet

- 1.0 -> 1.1 (apps:a:tag)
- r/b:1 -> r/b:2 (apps:b)

Files:
- a.yaml
- b.yaml
`
	for _, tmpl := range []string{"", "  \n\t ", commitmsg.DefaultTemplate} {
		got, err := commitmsg.Render(tmpl, d)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("template %q (-want +got):\n%s", tmpl, diff)
		}
	}
}

func TestMessageIsTrimmedAndEndsWithOneNewline(t *testing.T) {
	got, err := commitmsg.Render("\n\n  Update {{ .Values.env }}  \n\n\n", commitmsg.Data{Values: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if got != "Update prod\n" {
		t.Errorf("message = %q", got)
	}
}

func TestWhiteSpaceOnlyMessageIsErrEmpty(t *testing.T) {
	_, err := commitmsg.Render(`{{ range .Changed.Changes }}{{ .NewValue }}{{ end }}   `, commitmsg.Data{})
	if !errors.Is(err, commitmsg.ErrEmpty) || !errors.Is(err, commitmsg.ErrTemplate) {
		t.Fatalf("error = %v, want ErrEmpty inside ErrTemplate", err)
	}
}

func TestMessageSizeBound(t *testing.T) {
	// 8 x 8 x 2 writes of 512 bytes reach the bound exactly; one byte
	// more fails.
	exact := `{{ range $f := .Changed.Files }}{{ range $.Changed.Files }}{{ printf "%0512d" 1 }}{{ printf "%0512d" 2 }}{{ end }}{{ end }}`
	files := map[string]setters.ObjectChanges{}
	for i := range 8 {
		files[string(rune('a'+i))+".yaml"] = setters.ObjectChanges{}
	}
	d := commitmsg.Data{Changed: setters.Result{FileChanges: files}}
	got, err := commitmsg.Render(exact+`x`, d)
	if err == nil || !strings.Contains(err.Error(), "longer than 65536 bytes") {
		t.Fatalf("%d bytes rendered, error = %v; want the bound named", len(got), err)
	}
	got, err = commitmsg.Render(exact, d)
	if err != nil {
		t.Fatalf("a message of exactly the bound failed: %v", err)
	}
	if len(got) != commitmsg.MaxMessageSize+1 || !strings.HasSuffix(got, "2\n") {
		t.Errorf("length = %d, want %d with the final newline", len(got), commitmsg.MaxMessageSize+1)
	}
}

func TestExecutionErrorsAreErrTemplate(t *testing.T) {
	for name, tmpl := range map[string]string{
		"unknown field":        `{{ .Nope }}`,
		"wrong argument count": `{{ upper }}`,
		"range over a struct":  `{{ range .AutomationObject }}{{ end }}`,
		"undefined template":   `{{ template "missing" }}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := commitmsg.Render(tmpl, data); !errors.Is(err, commitmsg.ErrTemplate) {
				t.Fatalf("error = %v, want ErrTemplate", err)
			}
		})
	}
}
