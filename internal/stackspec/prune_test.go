package stackspec

import (
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestPruneCapHoldsBack(t *testing.T) {
	tests := []struct {
		name             string
		maxPrunePercent  int
		stale, inventory int
		want             bool
	}{
		{"half-of-twenty-is-allowed-by-default", 0, 10, 20, false},
		{"more-than-half-is-held-back-by-default", 0, 11, 20, true},
		{"small-inventories-are-never-capped", 0, 9, 9, false},
		{"the-cap-applies-from-ten-objects", 0, 6, 10, true},
		{"a-hundred-percent-turns-it-off", 100, 20, 20, false},
		{"a-lower-cap", 10, 3, 20, true},
		{"exactly-at-the-cap", 10, 2, 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{MaxPrunePercent: tt.maxPrunePercent}}
			if got := PruneCapOf(st).HoldsBack(tt.stale, tt.inventory); got != tt.want {
				t.Errorf("HoldsBack(%d, %d) with maxPrunePercent %d = %v, want %v", tt.stale, tt.inventory, tt.maxPrunePercent, got, tt.want)
			}
		})
	}
}

func TestPruneCapRefusalNamesCountsAndFix(t *testing.T) {
	msg := PruneCap{Percent: 30}.Refusal(7, 20)
	for _, want := range []string{"7 of the 20", "maxPrunePercent 30%", "raise spec.maxPrunePercent"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}
