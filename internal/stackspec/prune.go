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

// EmptyRenderError refuses a render with no objects for a Stack that owns
// some and does not set allowEmpty: pruning them all is far more often a
// broken path than an intent.
type EmptyRenderError struct {
	// Path is the Stack's spec.path.
	Path string
	// Revision is the source revision rendered.
	Revision string
	// Inventory is how many objects the Stack owns.
	Inventory int
}

// Error implements error.
func (e *EmptyRenderError) Error() string {
	return fmt.Sprintf("%s renders no objects at %s; refusing to prune the %d objects of the inventory: fix the path, or set allowEmpty: true to remove them",
		PathOrRoot(e.Path), e.Revision, e.Inventory)
}

// CheckEmptyRender returns an *EmptyRenderError when a render of n objects
// at revision would prune the whole inventory of a Stack without
// allowEmpty, nil otherwise. The agent stalls on it; diff refuses with it.
func CheckEmptyRender(obj *v1alpha1.Stack, n int, revision string) error {
	if n > 0 || len(obj.Status.Inventory) == 0 || obj.Spec.AllowEmpty {
		return nil
	}
	return &EmptyRenderError{Path: obj.Spec.Path, Revision: revision, Inventory: len(obj.Status.Inventory)}
}

// PathOrRoot names a Stack's path in a message: "path ./apps", or "the
// repository root".
func PathOrRoot(p string) string {
	if p == "" || p == "." || p == "./" {
		return "the repository root"
	}
	return "path " + p
}
