// Command node measures the real single-node test cluster of internal/localnode:
// how long node.Start takes to a Ready node, how long a Deployment of two
// pause Pods takes to become Available and to roll, what every component
// and the Pods' processes hold in memory once the node is idle, and how
// long Cluster.Stop takes.
//
// It is a benchmark, not a test: `make test` never runs it. It needs root
// and the binaries of hack/testenv.sh (KUBEBUILDER_ASSETS), and waits for
// any other node on this machine to stop first. `make bench-node` runs it
// and updates BENCHMARKS.md; -quick runs once.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// options are the command's flags.
type options struct {
	runs      int           // runs, each on a fresh node
	settle    time.Duration // idle time before the memory is read
	timeout   time.Duration // bound on each wait for the Deployment
	output    string        // "text" or "markdown"
	update    string        // a file whose Real node section gets the markdown
	headlines string        // a directory for the summary headline figures
	quick     bool
}

// quickOptions are the sizes of -quick: one run, for a smoke test.
var quickOptions = map[string]string{"runs": "1"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.runs, "runs", 3, "runs, each on a fresh node; tables show min and median")
	fs.DurationVar(&o.settle, "settle", 10*time.Second, "how long the node idles, its Deployment rolled, before the memory is read")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "longest wait for the Deployment to become Available")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the real node markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.BoolVar(&o.quick, "quick", false, "1 run, for a smoke run (explicit flags still win)")
	if err := harness.ParseFlags(fs, args, &o.quick, quickOptions); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	if o.runs < 1 {
		errs = append(errs, fmt.Errorf("-runs must be at least 1, got %d", o.runs))
	}
	if o.settle < 0 {
		errs = append(errs, fmt.Errorf("-settle must not be negative, got %s", o.settle))
	}
	if o.timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout must be positive, got %s", o.timeout))
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	return errors.Join(errs...)
}

func main() { harness.Main("node", parseOptions, run) }
