package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// isTerminal says whether w is a terminal a person reads: colours and a
// spinner go there, never into pipes or files. NO_COLOR (no-color.org) and
// TERM=dumb turn it off.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// palette colours text with ANSI escapes when on, and leaves it as it is
// when off.
type palette struct{ on bool }

// paletteFor colours only when w is a terminal.
func paletteFor(w io.Writer) palette { return palette{on: isTerminal(w)} }

func (p palette) paint(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Green marks what is fine (Ready, unchanged).
func (p palette) Green(s string) string { return p.paint("32", s) }

// Red marks what failed.
func (p palette) Red(s string) string { return p.paint("31", s) }

// Yellow marks what is in progress or needs a look.
func (p palette) Yellow(s string) string { return p.paint("33", s) }

// Bold marks headings.
func (p palette) Bold(s string) string { return p.paint("1", s) }

// Dim marks what matters less.
func (p palette) Dim(s string) string { return p.paint("2", s) }

// spinnerFrames are the frames of the terminal spinner.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// spinnerTick is how often the spinner turns.
const spinnerTick = 100 * time.Millisecond

// Progress tells a person what a command is waiting for. On a terminal it
// is one line redrawn in place with a spinner; elsewhere (CI logs, pipes)
// it prints a line each time the message changes, and nothing in between.
// The zero value is not usable; call newProgress, then Stop.
type Progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	msg  string
	turn int
	stop chan struct{}
	done chan struct{}
}

// newProgress returns a Progress writing to w, spinning when tty is true.
func newProgress(w io.Writer, tty bool) *Progress {
	p := &Progress{w: w, tty: tty, stop: make(chan struct{}), done: make(chan struct{})}
	if !tty {
		close(p.done)
		return p
	}
	go p.spin()
	return p
}

// progressFor returns a Progress that spins when w is a terminal.
func progressFor(w io.Writer) *Progress { return newProgress(w, isTerminal(w)) }

func (p *Progress) spin() {
	defer close(p.done)
	t := time.NewTicker(spinnerTick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.turn++
			p.draw()
			p.mu.Unlock()
		}
	}
}

// draw rewrites the terminal line; the caller holds mu.
func (p *Progress) draw() {
	if p.msg == "" {
		return
	}
	fmt.Fprintf(p.w, "\r%s %s\x1b[K", spinnerFrames[p.turn%len(spinnerFrames)], p.msg)
}

// Update sets what the command is waiting for now.
func (p *Progress) Update(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg == p.msg {
		return
	}
	p.msg = msg
	if p.tty {
		p.draw()
		return
	}
	fmt.Fprintf(p.w, "◎ %s\n", msg)
}

// Println prints a line that stays (a step done, a warning) above the
// spinner.
func (p *Progress) Println(format string, args ...any) {
	_, _ = p.Write([]byte(fmt.Sprintf(format, args...) + "\n"))
}

// Stop ends the spinner and clears its line. It is safe to call twice.
func (p *Progress) Stop() {
	p.mu.Lock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.mu.Unlock()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.msg != "" {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.msg = ""
}

// Write prints b, which should end in a newline, above the spinner.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	n, err := p.w.Write(b)
	if p.tty {
		p.draw()
	}
	return n, err
}
