package canary

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func pendingEntry(i int) LedgerEntry {
	return LedgerEntry{Time: time.Date(2026, 12, 4, 9, 0, i, 0, time.UTC), Canary: "apps/podinfo",
		Phase: v1alpha1.CanaryPhaseProgressing, Weight: i, Message: fmt.Sprintf("step %d", i)}
}

func TestPendingEntriesRoundTripThroughStatus(t *testing.T) {
	entries := []LedgerEntry{pendingEntry(1), pendingEntry(2)}
	if diff := cmp.Diff(entries, decodePending(encodePending(entries))); diff != "" {
		t.Errorf("entries read back (-want +got):\n%s", diff)
	}
}

// A pending entry that no longer decodes (edited by hand, or written by
// another version) is dropped; the others are kept in order.
func TestDecodePendingSkipsWhatDoesNotDecode(t *testing.T) {
	good := encodePending([]LedgerEntry{pendingEntry(1), pendingEntry(3)})
	pending := []string{good[0], "{not json", `"a string"`, good[1]}
	got := decodePending(pending)
	if diff := cmp.Diff([]LedgerEntry{pendingEntry(1), pendingEntry(3)}, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}

func TestEncodePendingKeepsTheNewestWithinTheBound(t *testing.T) {
	var entries []LedgerEntry
	for i := range maxPendingLedger + 5 {
		entries = append(entries, pendingEntry(i))
	}
	got := decodePending(encodePending(entries))
	if len(got) != maxPendingLedger || got[0].Weight != 5 || got[len(got)-1].Weight != maxPendingLedger+4 {
		t.Errorf("kept %d entries from weight %d to %d, want the newest %d", len(got), got[0].Weight, got[len(got)-1].Weight, maxPendingLedger)
	}
}
