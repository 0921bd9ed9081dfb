package harness

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table is one table of results.
type Table struct {
	Header []string
	Rows   [][]string
}

// WriteText writes t as aligned columns.
func (t Table) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range append([][]string{t.Header}, t.Rows...) {
		if _, err := fmt.Fprintln(tw, strings.Join(row, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// WriteMarkdown writes t as a GitHub-flavoured Markdown table; the columns
// after the first are right-aligned, as they hold numbers.
func (t Table) WriteMarkdown(w io.Writer) error {
	align := make([]string, len(t.Header))
	for i := range align {
		align[i] = "---:"
	}
	if len(align) > 0 {
		align[0] = "---"
	}
	for _, row := range append([][]string{t.Header, align}, t.Rows...) {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")); err != nil {
			return err
		}
	}
	return nil
}

// FormatSpread renders a min and a median over runs as "min / median", or
// as one number when they are equal once formatted.
func FormatSpread(s Spread, format func(float64) string) string {
	lo, mid := format(s.Min), format(s.Median)
	if lo == mid {
		return lo
	}
	return lo + " / " + mid
}
