package harness

import (
	"io"
	"strings"
)

// Report is what Publish writes: a benchmark's section of BENCHMARKS.md.
type Report struct {
	// Section is the heading, e.g. "Apply"; its markers are its lower case.
	Section string
	// Write renders the report as text or Markdown.
	Write func(io.Writer) error
	// Headlines are the figures of the summary table.
	Headlines []Headline
}

// Publish writes r to stdout, its headlines into the directory headlines
// (none when empty) and, when update names a file, the report into r's
// section of it.
func Publish(r Report, stdout io.Writer, headlines, update string, log *Progress) error {
	var out strings.Builder
	if err := r.Write(&out); err != nil {
		return err
	}
	if _, err := io.WriteString(stdout, out.String()); err != nil {
		return err
	}
	if err := WriteHeadlines(headlines, strings.ToLower(r.Section), r.Headlines); err != nil {
		return err
	}
	if update == "" {
		return nil
	}
	if err := UpdateSection(update, r.Section, out.String()); err != nil {
		return err
	}
	log.Printf("updated the %s section of %s", strings.ToLower(r.Section), update)
	return nil
}
