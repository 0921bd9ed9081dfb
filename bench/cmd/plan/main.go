// Command plan measures `flotilla plan` on a generated fleet (by default 50
// clusters of about 200 objects each) for a change to a shared base, against
// the real kustomize CLI run for every path each cluster renders, at both
// revisions, one after another: what a CI job without plan would do to
// see the same renders.
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-plan` runs it at full size and updates BENCHMARKS.md; -quick runs
// it on a small fleet in seconds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// kustomizeVersion is the kustomize CLI the baseline runs: the release
// built on the sigs.k8s.io/kustomize/api version of go.mod (v0.21.2), so
// both sides run the same kustomize.
const kustomizeVersion = "v5.8.2"

// options are the command's flags.
type options struct {
	clusters  int
	objects   int
	runs      int
	output    string
	update    string
	headlines string
	kustomize string
	profile   string
	quick     bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.clusters, "clusters", 50, "clusters of the generated fleet")
	fs.IntVar(&o.objects, "objects", 200, "objects each cluster renders, about")
	fs.IntVar(&o.runs, "runs", 5, "runs of each side; the tables show min and median")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the plan markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.kustomize, "kustomize", "", "the kustomize binary of the baseline (default: "+kustomizeVersion+" under ~/.cache/flotilla/tools, installed with go install when missing)")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of each plan run (never of the kustomize baseline) to this file, then FILE.2, FILE.3... for the next runs")
	fs.BoolVar(&o.quick, "quick", false, "a small fleet (5 clusters of 40 objects, 1 run) for a smoke run; explicit flags still win")
	if err := harness.ParseFlags(fs, args, &o.quick, map[string]string{"clusters": "5", "objects": "40", "runs": "1"}); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	for name, n := range map[string]int{"clusters": o.clusters, "objects": o.objects, "runs": o.runs} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("-%s must be at least 1, got %d", name, n))
		}
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	return errors.Join(errs...)
}

func main() { harness.Main("plan", parseOptions, run) }
