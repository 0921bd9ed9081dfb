// Command flotilla is both faces of Flotilla: `flotilla agent` runs the
// controllers, every other verb is the CLI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flotilla-io/flotilla/internal/cli"
)

func main() {
	streams := cli.OSStreams()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRootCommand(streams).ExecuteContext(ctx)
	stop()
	code, print := cli.ExitCode(err)
	if print {
		fmt.Fprintln(streams.ErrOut, "Error:", err)
	}
	os.Exit(code)
}
