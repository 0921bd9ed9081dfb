package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestProgressOutsideATerminalPrintsEachChangeOnce(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false)
	p.Update("waiting for %s", "Stack/apps")
	p.Update("waiting for %s", "Stack/apps")
	p.Println("✔ source fetched")
	p.Update("health of %d objects", 3)
	p.Stop()
	p.Stop()
	want := "◎ waiting for Stack/apps\n✔ source fetched\n◎ health of 3 objects\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestProgressOnATerminalRedrawsOneLineAndClearsIt(t *testing.T) {
	var out syncBuffer
	p := newProgress(&out, true)
	p.Update("waiting")
	p.Println("done step")
	p.Stop()
	got := out.String()
	if !strings.HasPrefix(got, "\r"+spinnerFrames[0]+" waiting\x1b[K") {
		t.Errorf("first draw = %q", got)
	}
	if !strings.Contains(got, "\r\x1b[Kdone step\n") {
		t.Errorf("Println did not clear the spinner line first: %q", got)
	}
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("Stop left the spinner line: %q", got)
	}
}

func TestPaletteOnlyColoursWhenOn(t *testing.T) {
	if got := (palette{}).Red("x"); got != "x" {
		t.Errorf("off palette = %q", got)
	}
	if got := (palette{on: true}).Red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("on palette = %q", got)
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
}

func TestExitCode(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		code      int
		printable bool
	}{
		{"no error", nil, ExitOK, false},
		{"plain error", errors.New("boom"), ExitError, true},
		{"silent code", &ExitCodeError{Code: 2}, 2, false},
		{"wrapped code with message", errorsJoin(&ExitCodeError{Code: 3, Err: errors.New("bad")}), 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, printable := ExitCode(tc.err)
			if code != tc.code || printable != tc.printable {
				t.Errorf("ExitCode = %d, %v; want %d, %v", code, printable, tc.code, tc.printable)
			}
		})
	}
}

func errorsJoin(err error) error { return errors.Join(err) }
