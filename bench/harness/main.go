package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs a benchmark command named name: parse reads its flags (exit 0
// on -h, 2 on a bad flag), run measures with a context that Ctrl-C and
// SIGTERM cancel (exit 1 on an error). It does not return.
func Main[O any](name string, parse func([]string, io.Writer) (O, error), run func(context.Context, O, io.Writer, io.Writer) error) {
	os.Exit(mainCode(name, os.Args[1:], os.Stdout, os.Stderr, parse, run))
}

func mainCode[O any](name string, args []string, stdout, stderr io.Writer, parse func([]string, io.Writer) (O, error), run func(context.Context, O, io.Writer, io.Writer) error) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
