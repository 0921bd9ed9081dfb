package harness

import (
	"fmt"
	"io"
	"strings"
)

// Printer writes a benchmark report as text or Markdown and keeps the
// first write error, so a report is a sequence of calls and one check.
type Printer struct {
	W        io.Writer
	Markdown bool
	Err      error
}

// Printf writes unless an earlier write failed.
func (p *Printer) Printf(format string, args ...any) {
	if p.Err == nil {
		_, p.Err = fmt.Fprintf(p.W, format, args...)
	}
}

// Heading writes a figure's heading: "###" in Markdown, underlined in text.
func (p *Printer) Heading(s string) {
	if p.Markdown {
		p.Printf("### %s\n\n", s)
		return
	}
	p.Printf("%s\n%s\n", s, strings.Repeat("-", len(s)))
}

// Table writes t and a blank line.
func (p *Printer) Table(t Table) {
	if p.Err != nil {
		return
	}
	if p.Markdown {
		p.Err = t.WriteMarkdown(p.W)
	} else {
		p.Err = t.WriteText(p.W)
	}
	p.Printf("\n")
}

// Command writes the command that reproduces a figure.
func (p *Printer) Command(cmd string) {
	if p.Markdown {
		p.Printf("Reproduce: `%s`\n\n", cmd)
		return
	}
	p.Printf("reproduce: %s\n\n", cmd)
}
