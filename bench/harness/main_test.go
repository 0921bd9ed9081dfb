package harness

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestMainCodes(t *testing.T) {
	ok := func(context.Context, int, io.Writer, io.Writer) error { return nil }
	fails := func(context.Context, int, io.Writer, io.Writer) error { return errors.New("boom") }
	parsed := func([]string, io.Writer) (int, error) { return 1, nil }
	for _, c := range []struct {
		name  string
		parse func([]string, io.Writer) (int, error)
		run   func(context.Context, int, io.Writer, io.Writer) error
		code  int
		err   string
	}{
		{"help", func([]string, io.Writer) (int, error) { return 0, flag.ErrHelp }, ok, 0, ""},
		{"bad flag", func([]string, io.Writer) (int, error) { return 0, errors.New("-x: bad") }, ok, 2, "bench: -x: bad"},
		{"run fails", parsed, fails, 1, "bench: boom"},
		{"success", parsed, ok, 0, ""},
	} {
		var stderr strings.Builder
		if got := mainCode("bench", nil, io.Discard, &stderr, c.parse, c.run); got != c.code || !strings.Contains(stderr.String(), c.err) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, got, stderr.String(), c.code, c.err)
		}
	}
}
