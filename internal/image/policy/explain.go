package policy

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Explanation says how a policy chose among tags.
type Explanation struct {
	// Policy describes the ordering, such as "semver range >=1.0.0".
	Policy string `json:"policy"`
	// Considered is the number of tags looked at.
	Considered int `json:"considered"`
	// Candidates are the tags the policy could choose, best first.
	Candidates []string `json:"candidates"`
	// Excluded are the tags left out, by tag, each with the reason.
	Excluded []Excluded `json:"excluded,omitempty"`
	// Winner is the chosen tag; empty when there are no candidates.
	Winner string `json:"winner"`
	// Value is what the policy ordered of the winner: the tag, or what
	// filterTags.extract made of it.
	Value string `json:"value,omitempty"`
	// Why says why the winner won, in one sentence.
	Why string `json:"why"`
}

// Excluded is a tag the policy left out.
type Excluded struct {
	Tag    string `json:"tag"`
	Reason string `json:"reason"`
}

// ExcludedByReason counts the excluded tags by reason, most frequent first.
func (e Explanation) ExcludedByReason() []ReasonCount {
	counts := map[string]int{}
	for _, x := range e.Excluded {
		counts[x.Reason]++
	}
	out := make([]ReasonCount, 0, len(counts))
	for _, r := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, ReasonCount{Reason: r, Count: counts[r]})
	}
	slices.SortStableFunc(out, func(a, b ReasonCount) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// ReasonCount is how many tags were left out for one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Summary is the explanation in one line, for a condition message.
func (e Explanation) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d tags considered, %d candidates", e.Considered, len(e.Candidates))
	for _, r := range e.ExcludedByReason() {
		fmt.Fprintf(&b, ", %d %s", r.Count, r.Reason)
	}
	return b.String()
}
