package stackspec

import (
	"fmt"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// DefaultMaxPrunePercent is the share of an inventory one pass may prune
// when spec.maxPrunePercent is unset.
const DefaultMaxPrunePercent = 50

// MinCappedInventory is the inventory size from which the prune cap
// applies: a Stack of a few objects may lose most of them in one commit.
const MinCappedInventory = 10

// PruneCap is the share of a Stack's inventory one pass may prune: the
// agent refuses a larger prune, and diff and plan say so instead of
// listing the objects as deleted.
type PruneCap struct {
	// Percent of the inventory; 100 turns the cap off.
	Percent int
}

// PruneCapOf returns the Stack's cap (spec.maxPrunePercent, default 50).
func PruneCapOf(obj *v1alpha1.Stack) PruneCap {
	if obj.Spec.MaxPrunePercent <= 0 {
		return PruneCap{Percent: DefaultMaxPrunePercent}
	}
	return PruneCap{Percent: obj.Spec.MaxPrunePercent}
}

// HoldsBack reports whether pruning stale objects of an inventory of
// inventory objects exceeds the cap, so that the agent prunes none of them.
func (c PruneCap) HoldsBack(stale, inventory int) bool {
	return c.Percent < 100 && inventory >= MinCappedInventory && stale*100 > inventory*c.Percent
}

// Refusal is the agent's message for a prune the cap holds back.
func (c PruneCap) Refusal(stale, inventory int) string {
	return fmt.Sprintf("refusing to prune %d of the %d objects of the inventory in one pass (more than maxPrunePercent %d%%): "+
		"the rest of the revision is applied; if this is intended, raise spec.maxPrunePercent (100 turns the cap off)",
		stale, inventory, c.Percent)
}
