package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/internal/canary"
)

// Format writes entry as one note line: a summary for people, a tab, and
// the entry's JSON for programs:
//
//	2026-12-03T17:04:00Z apps/podinfo Progressing weight 20% failed 0: advanced to 20%<TAB>{"time":...}
//
// The line holds no newline; the JSON holds no raw tab, so the last tab
// followed by "{" starts it.
func Format(e canary.LedgerEntry) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	e.Time = e.Time.UTC()
	if err := enc.Encode(e); err != nil {
		return "", fmt.Errorf("encoding the ledger entry of %s: %w", e.Canary, err)
	}
	summary := fmt.Sprintf("%s %s %s weight %d%% failed %d", e.Time.Truncate(time.Second).Format(time.RFC3339), e.Canary, e.Phase, e.Weight, e.FailedChecks)
	if e.Message != "" {
		summary += ": " + e.Message
	}
	return oneLine(summary) + "\t" + strings.TrimSuffix(buf.String(), "\n"), nil
}

// oneLine replaces line breaks and tabs with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// Parse reads a line Format wrote; ok is false for any other line (a
// person's note, another tool's).
func Parse(line string) (e canary.LedgerEntry, ok bool) {
	i := strings.LastIndex(line, "\t{")
	if i < 0 {
		return e, false
	}
	if err := json.Unmarshal([]byte(line[i+1:]), &e); err != nil || e.Canary == "" || e.Time.IsZero() {
		return canary.LedgerEntry{}, false
	}
	return e, true
}

// Record is a ledger entry with the commit whose note holds it.
type Record struct {
	// Commit is the annotated commit, in full hex.
	Commit string `json:"commit"`
	canary.LedgerEntry
}

// ParseNote returns the entries of a note, in the note's order.
func ParseNote(commit, note string) []Record {
	var out []Record
	for l := range strings.SplitSeq(note, "\n") {
		if e, ok := Parse(l); ok {
			out = append(out, Record{Commit: commit, LedgerEntry: e})
		}
	}
	return out
}
