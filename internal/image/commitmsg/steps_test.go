package commitmsg_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
)

// Each template below writes nothing per pass, so the size bound never
// stops it, and ranges only over data, so the number guard lets it
// through: before the step budget each ran for hours (split of 999 spaces
// nested three deep is about 10^9 passes).
func TestRunawayTemplatesStopAtTheStepBudget(t *testing.T) {
	tests := map[string]string{
		"nested ranges over split": `{{ $d := split "" (printf "%999s" "") }}{{ range $d }}{{ range $d }}{{ range $d }}{{ end }}{{ end }}{{ end }}`,
		"three defined templates nested": `{{ define "a" }}{{ range $.Changed.Changes }}{{ range $.Changed.Files }}{{ end }}{{ end }}{{ end }}` +
			`{{ define "b" }}{{ $d := split "" (printf "%999s" "") }}{{ range $d }}{{ range $d }}{{ template "a" $ }}{{ end }}{{ end }}{{ end }}{{ template "b" . }}`,
		"ranges nested in if and with": `{{ $d := split "" (printf "%999s" "") }}{{ if true }}{{ with $d }}{{ range . }}{{ range $d }}{{ end }}{{ end }}{{ end }}{{ end }}`,
	}
	for name, tmpl := range tests {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := commitmsg.Render(tmpl, data)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, commitmsg.ErrTooManySteps) || !errors.Is(err, commitmsg.ErrTemplate) {
					t.Fatalf("Render error = %v; want ErrTooManySteps wrapped in ErrTemplate", err)
				}
				if !strings.Contains(err.Error(), "100000 steps") {
					t.Errorf("error %q does not name the budget", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("Render did not stop at the step budget")
			}
		})
	}
}

// The budget counts passes and runs exactly: a template of MaxSteps-1
// passes (one more for the message itself) renders, one more does not.
func TestTheStepBudgetIsExact(t *testing.T) {
	digits := func(n int) string { return `{{ range split "" (printf "%` + itoa(n) + `s" "") }}{{ end }}` }
	// 100 ranges of 999 passes and one of 99, and the message's own run:
	// MaxSteps steps.
	var under strings.Builder
	for range 100 {
		under.WriteString(digits(999))
	}
	under.WriteString(`{{ range split "" (printf "%99s" "") }}{{ end }}x`)
	if got, err := commitmsg.Render(under.String(), data); err != nil || got != "x\n" {
		t.Fatalf("a template of %d steps: Render = %q, %v", commitmsg.MaxSteps, got, err)
	}
	_, err := commitmsg.Render(under.String()+`{{ range .Changed.Files }}{{ end }}`, data)
	if !errors.Is(err, commitmsg.ErrTooManySteps) {
		t.Fatalf("past the budget: Render error = %v, want ErrTooManySteps", err)
	}
}

// Recursion is refused before anything runs: with flat data nothing could
// end it but the budget, and text/template takes minutes to unwind a few
// tens of thousands of nested runs. Before the fix the first case ran for
// ever (2^depth runs).
func TestTemplatesCallingThemselvesAreRefused(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{"itself twice", `{{ define "t" }}{{ template "t" . }}{{ template "t" . }}{{ end }}{{ template "t" . }}`, `template "t" calls itself (t -> t)`},
		{"a block in a range", `{{ block "b" . }}{{ range $.Changed.Changes }}{{ template "b" $ }}{{ end }}{{ end }}`, `template "b" calls itself (b -> b)`},
		{"through another", `{{ define "x" }}{{ if . }}{{ template "y" . }}{{ end }}{{ end }}{{ define "y" }}{{ with . }}{{ template "x" . }}{{ end }}{{ end }}ok`, `calls itself (x -> y -> x)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := commitmsg.Render(tt.tmpl, data)
			if err == nil || !errors.Is(err, commitmsg.ErrTemplate) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want ErrTemplate with %q", err, tt.want)
			}
		})
	}
	// Calling the same template twice, not from itself, is no recursion.
	got, err := commitmsg.Render(`{{ define "f" }}[{{ . }}]{{ end }}{{ template "f" "a" }}{{ template "f" "b" }}`, data)
	if err != nil || got != "[a][b]\n" {
		t.Fatalf("Render = %q, %v; want [a][b]", got, err)
	}
}

// A template cannot reach the counter: it is added after parsing.
func TestTheStepCounterIsNotATemplateFunction(t *testing.T) {
	_, err := commitmsg.Render(`{{ flotillaCountStep }}`, data)
	if err == nil || !strings.Contains(err.Error(), `function "flotillaCountStep" not defined`) {
		t.Fatalf("Render error = %v, want the function refused at parse", err)
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
