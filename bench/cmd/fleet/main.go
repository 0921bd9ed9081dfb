// Command fleet measures a fleet of M clusters converging from one commit
// of one Git repository: each cluster a kube-apiserver of its own (all on
// one shared etcd, each under an etcd prefix of its own) with its own
// `flotilla agent` process, all pulling from one Git server speaking smart
// HTTP. It times the initial convergence of every cluster and the rollout
// of a commit to a shared base, and reports the agents' CPU and memory and
// the fleet's memory.
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-fleet` runs it at full size and updates BENCHMARKS.md; -quick runs
// two small clusters once.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// options are the command's flags.
type options struct {
	clusters     []int         // fleet sizes, each measured in turn
	objects      int           // objects of the shared base
	runs         int           // runs per fleet size, each on a fresh fleet
	parallel     int           // kube-apiservers started at once
	timeout      time.Duration // bound on each convergence
	minAvailable int           // MiB of MemAvailable left before each kube-apiserver starts
	output       string        // "text" or "markdown"
	update       string        // a file whose fleet section gets the markdown
	headlines    string        // a directory for the summary headline figures
	quick        bool
}

// defaultClusters are the fleet sizes measured by default.
const defaultClusters = "10,50"

// quickOptions are the sizes of -quick: a smoke run in a minute or two.
var quickOptions = map[string]string{"clusters": "2", "objects": "20", "runs": "1"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	var clusters string
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&clusters, "clusters", defaultClusters, "fleet sizes to measure, comma-separated (e.g. 10,50); each gets its own fresh fleets")
	fs.IntVar(&o.objects, "objects", 100, "objects of the shared base every cluster renders (its overlay adds one)")
	fs.IntVar(&o.runs, "runs", 3, "runs per fleet size, each on a fresh fleet; tables show min and median")
	fs.IntVar(&o.parallel, "parallel", 2, "kube-apiservers started at once")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest wait for a fleet to converge")
	fs.IntVar(&o.minAvailable, "min-available", 2048, "MiB of MemAvailable below which no further kube-apiserver is started: the run fails instead of swapping or meeting the OOM killer")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the fleet markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.BoolVar(&o.quick, "quick", false, "2 clusters, 20 objects, 1 run, for a smoke run (explicit flags still win)")
	if err := harness.ParseFlags(fs, args, &o.quick, quickOptions); err != nil {
		return o, err
	}
	var err error
	if o.clusters, err = parseSizes(clusters); err != nil {
		return o, err
	}
	return o, o.validate()
}

// parseSizes reads "10,50".
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-clusters %q: want positive numbers separated by commas, such as 10,50", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func (o options) validate() error {
	var errs []error
	for name, n := range map[string]int{"objects": o.objects, "runs": o.runs, "parallel": o.parallel} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("-%s must be at least 1, got %d", name, n))
		}
	}
	if o.objects < 3 {
		errs = append(errs, fmt.Errorf("-objects must be at least 3 (a Namespace, the Widget CRD and one object), got %d", o.objects))
	}
	if o.timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout must be positive, got %s", o.timeout))
	}
	if o.minAvailable < 0 {
		errs = append(errs, fmt.Errorf("-min-available must not be negative, got %d", o.minAvailable))
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	return errors.Join(errs...)
}

func main() { harness.Main("fleet", parseOptions, run) }
