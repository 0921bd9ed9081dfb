package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatAge(t *testing.T) {
	cases := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"a clock behind the server is 0s", -3 * time.Second, "0s"},
		{"zero", 0, "0s"},
		{"seconds", 5 * time.Second, "5s"},
		{"just under a minute rounds down", 59*time.Second + 999*time.Millisecond, "59s"},
		{"one minute", time.Minute, "1m"},
		{"minutes drop seconds", 3*time.Minute + 30*time.Second, "3m"},
		{"just under an hour", 59*time.Minute + 59*time.Second, "59m"},
		{"hours", 2 * time.Hour, "2h"},
		{"just under a day", 23*time.Hour + 59*time.Minute, "23h"},
		{"one day", 24 * time.Hour, "1d"},
		{"days", 4*24*time.Hour + 5*time.Hour, "4d"},
		{"just under a year", 364 * 24 * time.Hour, "364d"},
		{"years", 800 * 24 * time.Hour, "2y"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatAge(tc.d); got != tc.want {
				t.Errorf("formatAge(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		name string
		s    string
		max  int
		want string
	}{
		{"shorter than max is kept", ".spec.replicas", 60, ".spec.replicas"},
		{"exactly max is kept", "abcdef", 6, "abcdef"},
		{"longer than max ends in dots", "abcdefgh", 6, "abc..."},
		{"counts runes, not bytes", "ééééééé", 6, "ééé..."},
		{"no room for dots cuts bare", "abcdef", 3, "abc"},
		{"empty", "", 5, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.s, tc.max)
			if got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
			}
			if n := len([]rune(got)); n > tc.max {
				t.Errorf("truncate(%q, %d) is %d runes long", tc.s, tc.max, n)
			}
		})
	}
}

func TestCell(t *testing.T) {
	cases := []struct {
		name string
		s    string
		want string
	}{
		{"plain text is kept", "kubectl-edit", "kubectl-edit"},
		{"empty is <none>", "", "<none>"},
		{"a tab would break the columns", "a\tb", "a?b"},
		{"an escape sequence never reaches the writer", "\x1b[31mred\x1b[0m", "?[31mred?[0m"},
		{"a newline would break the row", "a\nb", "a?b"},
		{"printable non-ASCII is kept", "déploiement", "déploiement"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cell(tc.s); got != tc.want {
				t.Errorf("cell(%q) = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}

func TestCheckOutput(t *testing.T) {
	if err := checkOutput("json", OutputTable, OutputJSON, OutputYAML); err != nil {
		t.Errorf("json refused: %v", err)
	}
	err := checkOutput("xml", OutputTable, OutputJSON, OutputYAML)
	if err == nil || err.Error() != `unknown output format "xml": use table, json or yaml` {
		t.Errorf("err = %v", err)
	}
}

func TestPrintData(t *testing.T) {
	v := []DriftEntry{}
	cases := []struct{ format, want string }{
		{OutputJSON, "[]\n"},
		{OutputYAML, "[]\n"},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := printData(&b, tc.format, v); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("printData(%s, empty list) = %q, want %q", tc.format, b.String(), tc.want)
			}
		})
	}
	if err := printData(&bytes.Buffer{}, OutputTable, v); err == nil || !strings.Contains(err.Error(), "unknown output format") {
		t.Errorf("printData(table) err = %v", err)
	}
}
