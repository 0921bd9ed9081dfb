package drift

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// ownedBy returns the fields manager owns through Apply operations.
func ownedBy(entries []metav1.ManagedFieldsEntry, manager string) *fieldpath.Set {
	set := &fieldpath.Set{}
	for _, e := range entries {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(e.FieldsV1.GetRawReader()); err == nil {
			set = set.Union(s)
		}
	}
	return set
}

// takers returns the managers other than self that now own any of lost.
// When none does (a field was removed, so nobody owns it), it falls back to
// the manager of the most recent entry that is not self.
func takers(entries []metav1.ManagedFieldsEntry, self string, lost *fieldpath.Set) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range entries {
		if e.Manager == self || e.FieldsV1 == nil || seen[e.Manager] {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(e.FieldsV1.GetRawReader()); err != nil {
			continue
		}
		if !s.Intersection(lost).Empty() {
			seen[e.Manager] = true
			out = append(out, e.Manager)
		}
	}
	if len(out) == 0 {
		if m := latestOther(entries, self); m != "" {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

func latestOther(entries []metav1.ManagedFieldsEntry, self string) string {
	var best string
	var at metav1.Time
	for _, e := range entries {
		if e.Manager == self || e.Time == nil {
			continue
		}
		if best == "" || e.Time.After(at.Time) {
			best, at = e.Manager, *e.Time
		}
	}
	return best
}

// maxFields bounds the paths kept in one record.
const maxFields = 10

// paths lists the leaf paths of s, at most maxFields of them.
func paths(s *fieldpath.Set) []string {
	var out []string
	s.Leaves().Iterate(func(p fieldpath.Path) {
		out = append(out, p.String())
	})
	sort.Strings(out)
	if len(out) > maxFields {
		out = append(out[:maxFields], "...")
	}
	return out
}
