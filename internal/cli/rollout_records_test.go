package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
)

// noteOf formats entries as the lines of one note, with a line a person
// wrote between them.
func noteOf(t *testing.T, entries ...canary.LedgerEntry) string {
	t.Helper()
	lines := []string{"reviewed by the on-call engineer"}
	for _, e := range entries {
		l, err := ledger.Format(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + "\n"
}

// ledgerAt is 17:MM on the day of the rollout fixtures.
func ledgerAt(minute int) time.Time { return time.Date(2026, 12, 3, 17, minute, 0, 0, time.UTC) }

func TestCanaryRecordsKeepTheCanarysOldestFirst(t *testing.T) {
	const commitA, commitB = "aaaaaaa1111111", "bbbbbbb2222222"
	notes := map[string]string{
		commitB: noteOf(t,
			canary.LedgerEntry{Time: ledgerAt(5), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseSucceeded, Weight: 0, Message: "promoted"},
			canary.LedgerEntry{Time: ledgerAt(1), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseProgressing, Weight: 10, Message: "same minute, commit B"},
		),
		commitA: noteOf(t,
			canary.LedgerEntry{Time: ledgerAt(1), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseProgressing, Weight: 10, Message: "same minute, commit A"},
			canary.LedgerEntry{Time: ledgerAt(0), Canary: "apps/other", Phase: v1alpha1.CanaryPhaseProgressing, Message: "another Canary"},
			canary.LedgerEntry{Time: ledgerAt(0), Canary: "shop/podinfo", Phase: v1alpha1.CanaryPhaseProgressing, Message: "same name, other namespace"},
		),
	}
	var got []string
	for _, r := range canaryRecords(notes, "apps/podinfo") {
		got = append(got, r.Commit+" "+r.Message)
	}
	want := []string{commitA + " same minute, commit A", commitB + " same minute, commit B", commitB + " promoted"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canaryRecords (-want +got):\n%s", diff)
	}
	if got := canaryRecords(notes, "apps/missing"); got == nil || len(got) != 0 {
		t.Errorf("canaryRecords of a Canary without entries = %#v, want an empty list (JSON [])", got)
	}
}

func TestPrintHistory(t *testing.T) {
	records := []ledger.Record{
		{Commit: "1a2b3c4d5e6f", LedgerEntry: canary.LedgerEntry{Time: ledgerAt(1).In(time.FixedZone("CET", 3600)), Canary: "apps/podinfo",
			Phase: v1alpha1.CanaryPhaseProgressing, Weight: 10, Message: "  advanced to 10%\n"}},
		{Commit: "abc", LedgerEntry: canary.LedgerEntry{Time: ledgerAt(2), Canary: "apps/podinfo",
			Phase: v1alpha1.CanaryPhaseFailed, FailedChecks: 2, Message: "rolled back:\tsee the metrics"}},
	}
	var out bytes.Buffer
	if err := printHistory(Streams{Out: &out}, records, "apps/podinfo"); err != nil {
		t.Fatal(err)
	}
	want := "TIME                   COMMIT    PHASE         WEIGHT   FAILED CHECKS   MESSAGE\n" +
		"2026-12-03T17:01:00Z   1a2b3c4   Progressing   10%      0               advanced to 10%\n" +
		"2026-12-03T17:02:00Z   abc       Failed        0%       2               rolled back:?see the metrics\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	out.Reset()
	if err := printHistory(Streams{Out: &out}, nil, "apps/podinfo"); err != nil {
		t.Fatal(err)
	}
	if want := "No ledger entries of Canary apps/podinfo in refs/notes/flotilla.\n"; out.String() != want {
		t.Errorf("empty history = %q, want %q", out.String(), want)
	}
}

func TestRolloutHistoryRefusesAnUnknownFormat(t *testing.T) {
	o := &RolloutHistoryOptions{Name: "podinfo", Output: "wide", Timeout: time.Minute}
	err := o.Run(t.Context(), Streams{Out: &bytes.Buffer{}})
	if errString(err) != `unknown output format "wide": use table, json or yaml` {
		t.Errorf("Run = %v", err)
	}
}
