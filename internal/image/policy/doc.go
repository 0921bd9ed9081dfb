// Package policy chooses the newest tag of an image by an ImagePolicy:
// semver (within a range), alphabetical or numerical order, after an
// optional filterTags pattern whose extract template picks the part of the
// tag that is ordered. The semantics are Flux's image-reflector-controller's:
// tags that are not versions are ignored by a semver policy, a leading v is
// accepted, asc chooses the highest and desc the lowest.
//
// Choose returns an Explanation besides the winner: how many tags were
// considered, which were left out and why, and why the winner won. Compare
// orders two tags as the policy does, which the controller uses so a choice
// never moves backwards.
//
// It does not list tags (package registry) or keep them (package tagstore).
package policy
