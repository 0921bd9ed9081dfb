package harness

import (
	"fmt"
	"io"
	"time"
)

// Progress prints what a benchmark is doing, each line stamped with the
// seconds since it started.
type Progress struct {
	w     io.Writer
	start time.Time
}

// NewProgress starts the clock of a Progress writing to w.
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, start: time.Now()} }

// Printf prints one stamped line.
func (p *Progress) Printf(format string, args ...any) {
	fmt.Fprintf(p.w, "[%6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// Elapsed is the time since the Progress started.
func (p *Progress) Elapsed() time.Duration { return time.Since(p.start) }
