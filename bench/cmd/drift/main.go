// Command drift measures, on a real local control plane (kube-apiserver and
// etcd from hack/testenv.sh), how fast Flotilla reverts a hand edit and what
// a Stack reconcile costs: API requests by verb, wall time and CPU, for the
// first apply, a no-op reconcile in the steady state, and a forced full
// re-apply with nothing changed. The GitRepository and Stack controllers and
// the drift watcher run in this process, wired as the agent wires them.
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-drift` runs it at full size and updates BENCHMARKS.md; `make
// bench-smoke` runs it at tiny sizes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// options are the command's flags.
type options struct {
	objects       int           // objects of the cost figure
	namespaces    int           // namespaces they are spread over
	revertObjects int           // ConfigMaps of the revert figure
	edits         int           // edits per run of the revert figure
	runs          int           // repetitions of every figure
	reconciles    int           // interval reconciles measured per mode
	interval      time.Duration // Stack interval of the cost figure
	only          string        // "", "revert" or "cost"
	output        string        // "text" or "markdown"
	update        string        // a file whose drift section gets the markdown
	headlines     string        // a directory for the summary headline figures
	rateLimit     string        // "envtest" or "agent"
	quick         bool
}

// quickOptions are the sizes of -quick: a smoke run well under a minute.
var quickOptions = map[string]string{
	"objects": "60", "revert-objects": "10", "edits": "10", "runs": "1", "reconciles": "2", "interval": "2s",
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("drift", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.objects, "objects", 1000, "objects the Stack of the reconcile cost figure applies")
	fs.IntVar(&o.namespaces, "namespaces", 4, "namespaces those objects are spread over (created by the Stack)")
	fs.IntVar(&o.revertObjects, "revert-objects", 100, "ConfigMaps the Stack of the revert latency figure owns")
	fs.IntVar(&o.edits, "edits", 100, "hand edits per run of the revert latency figure, one at a time")
	fs.IntVar(&o.runs, "runs", 3, "runs of every figure, each on a fresh control plane; tables show min and median")
	fs.IntVar(&o.reconciles, "reconciles", 5, "interval reconciles measured per mode (no-op, forced re-apply)")
	fs.DurationVar(&o.interval, "interval", 5*time.Second, "Stack interval of the reconcile cost figure (at least 1s)")
	fs.StringVar(&o.only, "only", "", `measure one figure only: "revert" or "cost"`)
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the drift markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.StringVar(&o.rateLimit, "rate-limit", "envtest", `client rate limit of the controllers: "envtest" (QPS 1000, burst 2000, as the integration tests) or "agent" (the defaults of bin/flotilla agent: --kube-api-qps 50, --kube-api-burst 300)`)
	fs.BoolVar(&o.quick, "quick", false, "tiny sizes for a smoke run (explicit flags still win)")
	if err := harness.ParseFlags(fs, args, &o.quick, quickOptions); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	for name, n := range map[string]int{"objects": o.objects, "namespaces": o.namespaces, "revert-objects": o.revertObjects, "edits": o.edits, "runs": o.runs, "reconciles": o.reconciles} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("-%s must be at least 1, got %d", name, n))
		}
	}
	if o.interval < time.Second {
		errs = append(errs, fmt.Errorf("-interval must be at least 1s (the Stack API's minimum), got %s", o.interval))
	}
	if o.only != "" && o.only != "revert" && o.only != "cost" {
		errs = append(errs, fmt.Errorf(`-only must be "revert" or "cost", got %q`, o.only))
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	if o.rateLimit != "envtest" && o.rateLimit != "agent" {
		errs = append(errs, fmt.Errorf(`-rate-limit must be "envtest" or "agent", got %q`, o.rateLimit))
	}
	return errors.Join(errs...)
}

// wants reports whether the figure is measured.
func (o options) wants(figure string) bool { return o.only == "" || o.only == figure }

func main() { harness.Main("drift", parseOptions, run) }

// run measures every run, then writes the report to stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctrl.SetLogger(logr.Discard())
	log := harness.NewProgress(stderr)
	rep := report{o: o, machine: harness.DescribeMachine(controlplane.ModuleRoot())}
	binary, cleanup, err := buildAgent(ctx, log)
	if err != nil {
		return err
	}
	defer cleanup()
	for i := range o.runs {
		log.Printf("run %d/%d", i+1, o.runs)
		res, err := runOnce(ctx, o, log, &rep.machine, binary)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		rep.runs = append(rep.runs, res)
	}
	rep.elapsed = log.Elapsed()
	return harness.Publish(harness.Report{Section: "Drift", Write: rep.write, Headlines: rep.headlines()}, stdout, o.headlines, o.update, log)
}

// buildAgent compiles bin/flotilla into a temporary directory for the
// agent process; cleanup removes it.
func buildAgent(ctx context.Context, log *harness.Progress) (string, func(), error) {
	dir, err := os.MkdirTemp("", "flotilla-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	log.Printf("building flotilla for the agent process")
	binary := filepath.Join(dir, "flotilla")
	if err := harness.BuildFlotilla(ctx, controlplane.ModuleRoot(), binary); err != nil {
		cleanup()
		return "", nil, err
	}
	return binary, cleanup, nil
}
