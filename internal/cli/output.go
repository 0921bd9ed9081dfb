package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Output formats of -o.
const (
	OutputTable = "table"
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// none stands for an empty table cell, as in kubectl.
const none = "<none>"

// checkOutput refuses an -o value that is not one of allowed.
func checkOutput(format string, allowed ...string) error {
	if slices.Contains(allowed, format) {
		return nil
	}
	use := strings.Join(allowed, ", ")
	if n := len(allowed); n > 1 {
		use = strings.Join(allowed[:n-1], ", ") + " or " + allowed[n-1]
	}
	return fmt.Errorf("unknown output format %q: use %s", format, use)
}

// printData writes v as indented JSON or as YAML, as format says.
func printData(w io.Writer, format string, v any) error {
	var b []byte
	var err error
	switch format {
	case OutputJSON:
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	case OutputYAML:
		b, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("unknown output format %q: use json or yaml", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// newTable returns a tabwriter laid out as kubectl's tables: columns
// separated by at least three spaces. Rows are tab-separated; call Flush.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
}

// formatAge renders a duration as kubectl's AGE column does, in its largest
// whole unit: 5s, 3m, 2h, 4d, 2y. A negative duration (a clock behind the
// server's) is 0s.
func formatAge(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < day:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < year:
		return fmt.Sprintf("%dd", int(d/day))
	default:
		return fmt.Sprintf("%dy", int(d/year))
	}
}

// truncate shortens s to at most width runes, ending a shortened string
// with "...". A width below 4 leaves no room for text and the dots: s is
// cut bare.
func truncate(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width < 4 {
		return string(r[:width])
	}
	return string(r[:width-3]) + "..."
}

// cell makes s safe for one table cell: control and other unprintable
// runes (tabs that would break the columns, escape sequences a terminal
// would act on) become '?', and an empty string is <none>.
func cell(s string) string {
	if s == "" {
		return none
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}

// maxMessageWidth is the widest a message gets in a table or tree (get,
// events, tree).
const maxMessageWidth = 80

// shortDigest is how many characters of a commit or digest a table shows,
// as flux does (main@sha1:1a2b3c4d).
const shortDigest = 8

// sameWidthCode is the ANSI code of the terminal's default colour. Every
// cell of a coloured column, the header included, is painted so that each
// carries escapes of the same length and the tabwriter aligns the column.
const sameWidthCode = "39"

// readyCell colours a Ready status: green True, red False, yellow Unknown.
func readyCell(p palette, status string) string {
	switch status {
	case string(metav1.ConditionTrue):
		return p.Green(status)
	case string(metav1.ConditionFalse):
		return p.Red(status)
	default:
		return p.Yellow(cell(status))
	}
}

// shortRevision shortens the digest of a revision as flux does:
// main@sha1:1a2b3c4d5e... becomes main@sha1:1a2b3c4d.
func shortRevision(rev string) string {
	i := strings.LastIndex(rev, ":")
	if i < 0 || len(rev)-i-1 <= shortDigest {
		return rev
	}
	return rev[:i+1+shortDigest]
}
