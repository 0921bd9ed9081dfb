// Command dashboard measures `flotilla dashboard` on a fleet of M clusters
// with S Stacks each (50 x 20 by default): each cluster a kube-apiserver of
// its own on one shared etcd (test/controlplane.StartShared), its Stacks
// and GitRepository created and given realistic statuses through the
// status subresource, as an agent would write them. The dashboard runs as
// its own process over a kubeconfig with a context per cluster, so its
// memory and CPU are its own.
//
// It times the server's start until /api/fleet shows every cluster and
// Stack; the delay from a status patch to the `cluster` event of the event
// stream, and to the matrix cell in headless Chromium; the page's load until
// the matrix holds every cell; and it counts the watch requests the server
// holds on the kube-apiservers, with and without browsers.
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-dashboard` runs it at full size and updates BENCHMARKS.md; -quick
// runs 3 clusters of 4 Stacks once.
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
	clusters     int           // kube-apiservers, a kubeconfig context each
	stacks       int           // Stacks per cluster
	changes      int           // status patches timed, one at a time
	streams      int           // event-stream clients connected during the changes
	runs         int           // dashboard processes started in turn on the fleet
	parallel     int           // kube-apiservers started at once
	timeout      time.Duration // bound on each wait (full fleet, one change)
	minAvailable int           // MiB of MemAvailable left before each kube-apiserver starts
	chromium     string        // the Chromium binary; "" leaves the browser out
	seed         uint64        // of the random choice of the changed Stacks
	output       string        // "text" or "markdown"
	update       string        // a file whose Dashboard section gets the markdown
	headlines    string        // a directory for the summary headline figures
	quick        bool
}

// quickOptions are the sizes of -quick: a smoke run in a minute.
var quickOptions = map[string]string{"clusters": "3", "stacks": "4", "changes": "10", "streams": "2", "runs": "1"}

// defaultChromium is where Debian's chromium package puts the browser,
// which hack/testenv.sh installs.
const defaultChromium = "/usr/bin/chromium"

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.clusters, "clusters", 50, "clusters of the fleet, each a kube-apiserver and a context of the dashboard's kubeconfig")
	fs.IntVar(&o.stacks, "stacks", 20, "Stacks per cluster, each with a status written as an agent writes it")
	fs.IntVar(&o.changes, "changes", 100, "status patches of a random Stack in a random cluster, each timed to the event stream and the browser")
	fs.IntVar(&o.streams, "streams", 10, "event-stream clients (GET /api/events) connected during the changes, as that many browsers")
	fs.IntVar(&o.runs, "runs", 3, "dashboard processes started one after another on the same fleet; tables show min and median")
	fs.IntVar(&o.parallel, "parallel", 2, "kube-apiservers started at once")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "longest wait for the whole fleet to show, and for one change to arrive")
	fs.IntVar(&o.minAvailable, "min-available", 2048, "MiB of MemAvailable below which no further kube-apiserver is started: the run fails instead of swapping")
	fs.StringVar(&o.chromium, "chromium", defaultChromium, `the Chromium binary for the page's figures; "" leaves the browser out`)
	fs.Uint64Var(&o.seed, "seed", 18, "seed of the random choice of the Stacks the changes patch")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the dashboard markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.BoolVar(&o.quick, "quick", false, "3 clusters of 4 Stacks, 10 changes, 2 streams, 1 run, for a smoke run (explicit flags still win)")
	if err := harness.ParseFlags(fs, args, &o.quick, quickOptions); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		n    int
	}{{"clusters", o.clusters}, {"stacks", o.stacks}, {"changes", o.changes}, {"streams", o.streams}, {"runs", o.runs}, {"parallel", o.parallel}} {
		if f.n < 1 {
			errs = append(errs, fmt.Errorf("-%s must be at least 1, got %d", f.name, f.n))
		}
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

func main() { harness.Main("dashboard", parseOptions, run) }
