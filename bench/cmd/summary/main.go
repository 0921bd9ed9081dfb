// Command summary prints the headline figures that `make bench` collected
// from every benchmark command (their -headlines files) as one table, and
// with -update writes it into the Summary section of BENCHMARKS.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// order is the order of the sections in BENCHMARKS.md.
var order = []string{"apply", "drift", "fleet", "plan", "real node", "image scan", "image delay", "dashboard"}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory of the benchmark commands' -headlines files")
	update := fs.String("update", "", "also write the table into the Summary section of this file (BENCHMARKS.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	hs, err := harness.ReadHeadlines(*dir, order)
	if err != nil {
		return err
	}
	if len(hs) == 0 {
		return fmt.Errorf("no headlines in %s: run the benchmarks with -headlines %s first", *dir, *dir)
	}
	t := harness.HeadlineTable(hs)
	if err := t.WriteText(stdout); err != nil {
		return err
	}
	if *update == "" {
		return nil
	}
	var md strings.Builder
	md.WriteString("The headline figures of the sections below, each the minimum and median over its runs; each section names its machine, its configuration and the command that reproduces it.\n\n")
	if err := t.WriteMarkdown(&md); err != nil {
		return err
	}
	return harness.UpdateSection(*update, "Summary", md.String())
}
