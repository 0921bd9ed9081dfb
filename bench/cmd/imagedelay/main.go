// Command imagedelay measures how long an image update takes end to end:
// from a new tag pushed to a registry to the commit in Git that an
// ImageUpdate writes for it. Each run pushes a newer semantic version
// (v1.1.0, v1.2.0, ...) and waits until the branch head of the bare
// repository moves to a commit whose file names that tag.
//
// Every part is real: kube-apiserver and etcd (test/controlplane, CRDs from
// config/), `flotilla agent` as its own process with a kubeconfig, an OCI
// registry over TLS with basic auth (internal/ociimage/ocitest, in this
// process), and a Git server over smart HTTP with basic auth
// (internal/gitserve, in this process, git-http-backend behind it).
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-imagedelay` runs it and updates BENCHMARKS.md; -quick runs one
// update for a smoke run.
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
	runs      int           // tags pushed, one update each
	interval  time.Duration // ImageRepository scan interval
	timeout   time.Duration // longest wait for one update's commit
	output    string        // "text" or "markdown"
	update    string        // a file whose image delay section gets the markdown
	headlines string        // a directory for the summary headline figures
	quick     bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("imagedelay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.runs, "runs", 5, "new tags pushed, one at a time; the table shows min, median and max of the delays")
	fs.DurationVar(&o.interval, "interval", time.Second, "scan interval of the ImageRepository (at least 1s, the API's minimum)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "longest wait for the commit of one new tag")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the image delay markers of this file (BENCHMARKS.md)")
	fs.BoolVar(&o.quick, "quick", false, "1 run, for a smoke run; explicit flags still win")
	if err := harness.ParseFlags(fs, args, &o.quick, map[string]string{"runs": "1"}); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	if o.runs < 1 {
		errs = append(errs, fmt.Errorf("-runs must be at least 1, got %d", o.runs))
	}
	if o.interval < time.Second {
		errs = append(errs, fmt.Errorf("-interval must be at least 1s (the ImageRepository API's minimum), got %s", o.interval))
	}
	if o.timeout <= o.interval {
		errs = append(errs, fmt.Errorf("-timeout must be longer than -interval %s, got %s", o.interval, o.timeout))
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	return errors.Join(errs...)
}

func main() { harness.Main("imagedelay", parseOptions, run) }
