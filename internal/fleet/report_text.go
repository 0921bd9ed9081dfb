package fleet

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Style colours text output; a nil function leaves its text plain, so the
// zero Style writes plain text (for pipes, files and CI logs).
type Style struct {
	Added, Changed, Removed, Warning, Failure, Heading func(string) string
}

func paint(f func(string) string, s string) string {
	if f == nil {
		return s
	}
	return f(s)
}

// WriteText writes the Result for people: the summary first (clusters
// changed and unchanged, a table of the changed Stacks), then per cluster
// (clusters with the same changes together) each object and its field
// changes, then warnings and render failures.
func WriteText(w io.Writer, res *Result, st Style) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %s -> %s\n", revisionText(res.Base), revisionText(res.Head))
	b.WriteString(paint(st.Heading, headline(res)) + "\n")
	writeTextSummary(&b, res)
	for _, g := range groupClusters(res) {
		writeTextGroup(&b, g, st)
	}
	writeTextWarnings(&b, res, st)
	writeTextFailures(&b, res, st)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTextSummary writes the table of changed Stacks and the unchanged clusters.
func writeTextSummary(b *strings.Builder, res *Result) {
	var rows []string
	for _, c := range res.Clusters {
		for _, s := range c.Stacks {
			if notable(s) {
				n := stackCounts(s)
				rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%d\t%d\t%d", c.Name, s.Name, s.Status, n.added, n.changed, n.removed))
			}
		}
	}
	if len(rows) > 0 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(b, 0, 0, 3, ' ', 0)
		fmt.Fprintln(tw, "CLUSTER\tSTACK\tSTATUS\tADDED\tCHANGED\tREMOVED")
		for _, r := range rows {
			fmt.Fprintln(tw, r)
		}
		_ = tw.Flush() // writes to a strings.Builder
	}
	if names := unchangedNames(res); len(names) > 0 {
		fmt.Fprintf(b, "\nUnchanged: %s\n", strings.Join(names, ", "))
	}
}

// writeTextGroup writes the details of clusters with the same changes.
func writeTextGroup(b *strings.Builder, g clusterGroup, st Style) {
	fmt.Fprintf(b, "\n%s: %s\n", paint(st.Heading, clusterList(g.names)), g.counts)
	for _, s := range g.stacks {
		fmt.Fprintf(b, "  %s\n", stackTitle(s))
		for _, line := range objectLines(s) {
			b.WriteString("    " + paintLine(line, st) + "\n")
		}
	}
}

// objectLines are the lines of a Stack's objects: "+ added", "~ changed"
// with its fields indented below, "- removed".
func objectLines(s StackPlan) []string {
	var out []string
	for _, o := range s.Added {
		out = append(out, "+ "+o.String())
	}
	for _, ch := range s.Changed {
		out = append(out, "~ "+ch.Object.String())
		for _, f := range ch.Fields {
			for _, l := range fieldLines(f) {
				out = append(out, "    "+l)
			}
		}
	}
	for _, o := range s.Removed {
		out = append(out, "- "+o.String())
	}
	return out
}

func paintLine(line string, st Style) string {
	switch {
	case strings.HasPrefix(line, "+ "):
		return paint(st.Added, line)
	case strings.HasPrefix(line, "- "):
		return paint(st.Removed, line)
	case strings.HasPrefix(line, "~ "):
		return paint(st.Changed, line)
	}
	return line
}

func writeTextWarnings(b *strings.Builder, res *Result, st Style) {
	groups := groupWarnings(res)
	if len(groups) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", paint(st.Heading, fmt.Sprintf("Warnings (%d):", len(groups))))
	for _, g := range groups {
		b.WriteString("  " + paint(st.Warning, "! "+g.text()) + "\n")
	}
}

func writeTextFailures(b *strings.Builder, res *Result, st Style) {
	failures := res.Failures()
	if len(failures) == 0 {
		return
	}
	_, _, failed := res.Count()
	fmt.Fprintf(b, "\n%s\n", paint(st.Heading, fmt.Sprintf("%d of %d clusters would fail to render:", failed, len(res.Clusters))))
	for _, f := range failures {
		b.WriteString("  " + paint(st.Failure, fmt.Sprintf("x %s / %s: %s", f.Cluster, f.Stack, f.Message)) + "\n")
	}
}
