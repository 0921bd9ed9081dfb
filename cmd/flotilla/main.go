// Command flotilla is both faces of Flotilla: `flotilla agent` runs the
// controllers, every other verb is the CLI.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/flotilla-io/flotilla/internal/cli"
)

func main() {
	streams := cli.OSStreams()
	if err := cli.NewRootCommand(streams).ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(streams.ErrOut, "Error:", err)
		os.Exit(1)
	}
}
