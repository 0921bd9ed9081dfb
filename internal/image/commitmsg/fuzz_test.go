package commitmsg

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/image/setters"
)

// FuzzSafePrintf checks that a format safePrintf accepts cannot make a
// long string, even with a huge number among the arguments (which a * or
// %[n]* width would take).
func FuzzSafePrintf(f *testing.F) {
	for _, s := range []string{
		"%d", "%999d", "%1000d", "%*d", "%[1]*d", "%[2]*[1]d", "%.[1]*d", "%-0999.999f", "%%1000d",
		"%[3]d %[1]s", "%v%v%v", "%0512d%0512d", "%[1]0999d", "%[1]%", "%", "%[", "%[1", "%9[1]99d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		out, err := safePrintf(format, 1<<30, "x", 2.5)
		if err != nil {
			if !strings.Contains(err.Error(), "refused") {
				t.Fatalf("error %v is not a refusal", err)
			}
			return
		}
		if limit := (len(format) + 3) * 2100; len(out) > limit {
			t.Fatalf("safePrintf(%q) made %d bytes, more than %d", format, len(out), limit)
		}
	})
}

// FuzzRender checks that any template renders to a bounded message ending
// in one newline, or fails with ErrTemplate; the seeds include each way
// around the range guard that was found.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		DefaultTemplate,
		`{{ range 5 }}x{{ end }}`,
		`{{ with $n := 5 }}{{ range $n }}x{{ end }}{{ end }}`,
		`{{ if $n := 5 }}{{ range $n }}x{{ end }}{{ end }}`,
		`{{ with 5 }}{{ range . }}x{{ end }}{{ end }}`,
		`{{ define "l" }}{{ range . }}x{{ end }}{{ end }}{{ template "l" 5 }}`,
		`{{ $n := "" }}{{ range .Changed.Changes }}{{ range $n }}x{{ end }}{{ $n = 5 }}{{ end }}`,
		`{{ range $i, $c := .Changed.Changes }}{{ range $i }}{{ $c.NewValue }}{{ end }}{{ end }}`,
		`{{ range ($n := 3) }}{{ end }}`,
		`{{ printf "%[1]*d" 100000000 1 }}`,
		`{{ .Values.k | default "d" | upper | trunc 3 }}`,
		`{{ range .Changed.Files }}{{ indent 64 . }}{{ end }}`,
	} {
		f.Add(s)
	}
	data := Data{
		Changed: setters.Result{FileChanges: map[string]setters.ObjectChanges{
			"a.yaml": {{Kind: "Deployment", Name: "a"}: {{OldValue: "r/a:1", NewValue: "r/a:2", Setter: "ns:a"}, {OldValue: "1", NewValue: "2", Setter: "ns:a:tag"}}},
		}},
		Values: map[string]string{"k": "value"},
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		if strings.Count(tmpl, "range") > 3 {
			return // nested ranges over data multiply; the bound on them is the data's size, not this test's
		}
		msg, err := Render(tmpl, data)
		if err != nil {
			if !errors.Is(err, ErrTemplate) {
				t.Fatalf("error %v is not an ErrTemplate", err)
			}
			return
		}
		if len(msg) > MaxMessageSize+1 || !strings.HasSuffix(msg, "\n") || strings.HasSuffix(msg, "\n\n") {
			t.Fatalf("message of %d bytes: %q", len(msg), fmt.Sprintf("%.80s", msg))
		}
	})
}
