package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

func sampleEntry() canary.LedgerEntry {
	return canary.LedgerEntry{
		Time: time.Date(2026, 12, 3, 17, 4, 0, 0, time.UTC), Canary: "apps/podinfo",
		Phase: v1alpha1.CanaryPhaseProgressing, Weight: 20, FailedChecks: 1,
		Images:  []string{"registry.local/podinfo:v1.1.0"},
		Metrics: []v1alpha1.MetricResult{{Name: "request-success-rate", Value: "97.5", Passed: false, Message: "below 99 <min>"}},
		Message: "step 2 failed:\n\trequest-success-rate 97.5 < 99",
	}
}

func TestFormatIsReadableAndParses(t *testing.T) {
	e := sampleEntry()
	line, err := Format(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(line, "\n") {
		t.Fatalf("line holds a newline: %q", line)
	}
	wantPrefix := "2026-12-03T17:04:00Z apps/podinfo Progressing weight 20% failed 1: step 2 failed:  request-success-rate 97.5 < 99\t{"
	if !strings.HasPrefix(line, wantPrefix) {
		t.Errorf("line = %q\nwant prefix %q", line, wantPrefix)
	}
	if !strings.Contains(line, "<min>") {
		t.Errorf("JSON escapes HTML, less readable: %q", line)
	}
	got, ok := Parse(line)
	if !ok {
		t.Fatalf("Parse(%q) refused its own line", line)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseSkipsOtherLines(t *testing.T) {
	for _, line := range []string{"", "reviewed by alice", "x\t{not json", "\t{\"phase\":\"Progressing\"}", "a\t{}"} {
		if e, ok := Parse(line); ok {
			t.Errorf("Parse(%q) = %+v, want skipped", line, e)
		}
	}
}

func TestParseNoteKeepsOrderAndSkipsForeignLines(t *testing.T) {
	a, b := sampleEntry(), sampleEntry()
	b.Phase, b.Weight, b.Message = v1alpha1.CanaryPhaseFailed, 0, "rolled back"
	la, _ := Format(a)
	lb, _ := Format(b)
	got := ParseNote("abc", "a person's words\n"+la+"\n"+lb+"\n")
	want := []Record{{Commit: "abc", LedgerEntry: a}, {Commit: "abc", LedgerEntry: b}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAppendLinesKeepsTheNoteAndSkipsRepeats(t *testing.T) {
	cases := []struct {
		name, note string
		lines      []string
		want       string
		added      bool
	}{
		{"empty note", "", []string{"a", "b"}, "a\nb\n", true},
		{"note without final newline", "x", []string{"a"}, "x\na\n", true},
		{"a line already there is not repeated", "a\n", []string{"a", "b", "b"}, "a\nb\n", true},
		{"nothing new", "a\nb\n", []string{"b"}, "a\nb\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, added := appendLines(tc.note, tc.lines)
			if got != tc.want || added != tc.added {
				t.Errorf("appendLines = %q, %v; want %q, %v", got, added, tc.want, tc.added)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	line, _ := Format(sampleEntry())
	for _, s := range []string{line, "", "\t{", "x\t{\"time\":\"2026-01-01T00:00:00Z\",\"canary\":\"a/b\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := Parse(s)
		if !ok {
			return
		}
		again, err := Format(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := Parse(again); !ok {
			t.Errorf("a parsed entry formats to a line that does not parse: %q", again)
		}
	})
}
