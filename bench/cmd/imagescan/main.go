// Command imagescan measures an ImageRepository scan of a large image
// repository (by default 10,000 tags): listing every tag page by page from
// a real OCI registry over TLS with basic auth, with the exclusion list
// applied, as the agent's ImageRepository controller does; then storing the
// tags and choosing among them with a semver ImagePolicy.
//
// The registry is go-containerregistry's, in process (internal/ociimage/
// ocitest): the same code that serves Flotilla's integration tests, with
// blobs in memory, so the figure is the client's and the protocol's cost,
// not a disk's or a network's.
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-imagescan` runs it at full size and updates BENCHMARKS.md; -quick
// runs it on 500 tags in seconds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// options are the command's flags.
type options struct {
	tags      int
	pageSize  int
	runs      int
	output    string
	update    string
	headlines string
	quick     bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("imagescan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.tags, "tags", 10000, "tags in the image repository")
	fs.IntVar(&o.pageSize, "page-size", 1000, "tags asked for per list request")
	fs.IntVar(&o.runs, "runs", 5, "scans; the tables show min and median")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the image scan markers of this file (BENCHMARKS.md)")
	fs.BoolVar(&o.quick, "quick", false, "500 tags, 1 run, for a smoke run; explicit flags still win")
	if err := harness.ParseFlags(fs, args, &o.quick, map[string]string{"tags": "500", "runs": "1"}); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	for name, n := range map[string]int{"tags": o.tags, "page-size": o.pageSize, "runs": o.runs} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("-%s must be at least 1, got %d", name, n))
		}
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	return errors.Join(errs...)
}

func main() { harness.Main("imagescan", parseOptions, run) }
