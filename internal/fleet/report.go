package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// maxValueWidth is the widest a value gets in text and markdown output;
// JSON output keeps values whole.
const maxValueWidth = 160

// WriteJSON writes the Result as indented JSON.
func WriteJSON(w io.Writer, res *Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// counts are the objects a cluster or Stack adds, changes and removes.
type counts struct{ added, changed, removed int }

func (c counts) String() string {
	return fmt.Sprintf("%d added, %d changed, %d removed", c.added, c.changed, c.removed)
}

func stackCounts(s StackPlan) counts {
	return counts{len(s.Added), len(s.Changed), len(s.Removed)}
}

func clusterCounts(c ClusterPlan) counts {
	var n counts
	for _, s := range c.Stacks {
		sc := stackCounts(s)
		n.added, n.changed, n.removed = n.added+sc.added, n.changed+sc.changed, n.removed+sc.removed
	}
	return n
}

// notable says whether a Stack has anything to show in the details.
func notable(s StackPlan) bool {
	return s.HasChanges() || s.Status != StackUnchanged
}

// clusterGroup is clusters whose details read the same: a change to a
// shared base shows once, with the list of clusters it reaches.
type clusterGroup struct {
	names  []string
	stacks []StackPlan
	counts counts
}

// groupClusters groups the clusters that are not unchanged by identical
// details, in the order of their first cluster.
func groupClusters(res *Result) []clusterGroup {
	var groups []clusterGroup
	index := map[string]int{}
	for _, c := range res.Clusters {
		if c.Status == ClusterUnchanged {
			continue
		}
		var stacks []StackPlan
		for _, s := range c.Stacks {
			if notable(s) {
				stacks = append(stacks, s)
			}
		}
		b, _ := json.Marshal(stacks)
		key := string(b)
		if i, ok := index[key]; ok {
			groups[i].names = append(groups[i].names, c.Name)
			continue
		}
		index[key] = len(groups)
		groups = append(groups, clusterGroup{names: []string{c.Name}, stacks: stacks, counts: clusterCounts(c)})
	}
	return groups
}

// warningGroup is one warning and the clusters it concerns.
type warningGroup struct {
	w        Warning
	clusters []string
}

// groupWarnings merges warnings that differ only by cluster.
func groupWarnings(res *Result) []warningGroup {
	var groups []warningGroup
	index := map[Warning]int{}
	for _, w := range res.AllWarnings() {
		c := w.Cluster
		w.Cluster = ""
		if i, ok := index[w]; ok {
			groups[i].clusters = append(groups[i].clusters, c)
			continue
		}
		index[w] = len(groups)
		var cs []string
		if c != "" {
			cs = []string{c}
		}
		groups = append(groups, warningGroup{w: w, clusters: cs})
	}
	return groups
}

// warningText is one line for a warning group.
func (g warningGroup) text() string {
	var b strings.Builder
	if len(g.clusters) > 0 {
		b.WriteString(clusterList(g.clusters))
		if g.w.Stack != "" {
			b.WriteString(" / " + g.w.Stack)
		}
		b.WriteString(": ")
	}
	if g.w.Object != "" {
		b.WriteString(g.w.Object + " ")
	}
	b.WriteString(g.w.Message)
	return b.String()
}

// clusterList names clusters: one, or "N clusters (a, b, ...)".
func clusterList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%d clusters (%s)", len(names), strings.Join(names, ", "))
}

// unchangedNames lists the clusters the change does not reach.
func unchangedNames(res *Result) []string {
	var out []string
	for _, c := range res.Clusters {
		if c.Status == ClusterUnchanged {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}

// headline is the one-line summary of a Result.
func headline(res *Result) string {
	changed, unchanged, failed := res.Count()
	total := len(res.Clusters)
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d clusters change", changed+failed, total)
	if failed > 0 {
		fmt.Fprintf(&b, " (%d would fail to render)", failed)
	}
	fmt.Fprintf(&b, ", %d unchanged", unchanged)
	return b.String()
}

// revisionText is "name (description)".
func revisionText(r Revision) string {
	if r.Description == "" || r.Description == r.Name {
		return r.Name
	}
	return r.Name + " (" + r.Description + ")"
}

// fieldLines are the lines that describe one changed field.
func fieldLines(f FieldChange) []string {
	switch {
	case f.Hidden:
		return []string{f.Path + ": " + string(f.Op) + " (value hidden)"}
	case len(f.Lines) > 0:
		out := []string{f.Path + ": changed"}
		for _, l := range f.Lines {
			out = append(out, "  "+clip(l))
		}
		return out
	case f.Op == FieldAdded:
		return []string{f.Path + ": added " + clip(f.After)}
	case f.Op == FieldRemoved:
		return []string{f.Path + ": removed (was " + clip(f.Before) + ")"}
	default:
		return []string{f.Path + ": " + clip(f.Before) + " -> " + clip(f.After)}
	}
}

// clip shortens long values for people; JSON output keeps them whole.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxValueWidth {
		return s
	}
	return string(r[:maxValueWidth-3]) + "..."
}

// stackTitle is "name (path)" plus a status note.
func stackTitle(s StackPlan) string {
	t := s.Name + " (" + s.Path + ")"
	switch s.Status {
	case StackAdded:
		t += ": new Stack"
	case StackRemoved:
		t += ": Stack removed"
	case StackFailed:
		t += ": does not render"
	case StackNotPlanned:
		t += ": not planned, " + s.Reason
	case StackCannotPlan:
		t += ": cannot plan, " + s.Reason
	}
	return t
}
