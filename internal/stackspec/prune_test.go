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

func TestCheckEmptyRenderRefusesToEmptyAnInventory(t *testing.T) {
	owning := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Path: "./apps"},
		Status: v1alpha1.StackStatus{Inventory: make([]v1alpha1.InventoryEntry, 3)}}
	allowed := owning.DeepCopy()
	allowed.Spec.AllowEmpty = true
	tests := []struct {
		name  string
		stack *v1alpha1.Stack
		n     int
		want  string
	}{
		{"an-empty-render-of-an-owning-stack", owning, 0, "path ./apps renders no objects at main@sha1:abc; refusing to prune the 3 objects of the inventory: fix the path, or set allowEmpty: true to remove them"},
		{"objects-rendered", owning, 1, ""},
		{"allow-empty", allowed, 0, ""},
		{"nothing-owned", &v1alpha1.Stack{}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEmptyRender(tt.stack, tt.n, "main@sha1:abc")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckEmptyRender = %q, want %q", got, tt.want)
			}
		})
	}
	if PathOrRoot("./") != "the repository root" {
		t.Errorf("PathOrRoot(./) = %q", PathOrRoot("./"))
	}
}
