// Command apply measures, on a real local control plane (kube-apiserver and
// etcd from hack/testenv.sh) and a real Git server, how long a Flotilla
// agent takes to apply a Stack of N objects of mixed kinds, against a
// floor: the same number of objects applied by a minimal program that only
// sends server-side apply requests, at the same concurrency and client rate
// limit, in the same run on the same API server. It also records the
// agent's peak memory and CPU at each size, the cost of a no-op and of a
// forced full re-apply, and how long pruning half the objects takes.
//
// The agent runs as users run it: `flotilla agent`, its own process, built
// once per invocation from this source tree.
//
// It is a benchmark, not a test: `make test` never runs it. `make
// bench-apply` runs it at full size and updates BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// Client rate limits of the agent and the floor.
const (
	rateLimitBench = "bench" // QPS 1000, burst 2000
	rateLimitAgent = "agent" // the defaults of flotilla agent
	benchQPS       = 1000
	benchBurst     = 2000
)

// options are the command's flags.
type options struct {
	objects     []int         // sizes measured, in order
	noopObjects int           // the size at which the no-op reconciles are measured
	runs        int           // repetitions of every figure
	timeout     time.Duration // how long a Stack may take to become Ready
	output      string        // "text" or "markdown"
	update      string        // a file whose apply section gets the markdown
	headlines   string        // a directory for the summary headline figures
	rateLimit   string        // rateLimitBench or rateLimitAgent
	profile     string        // a directory for the agent's CPU and heap profiles of each phase
	quick       bool
}

// quickOptions are the sizes of -quick: a smoke run well under a minute.
var quickOptions = map[string]string{"objects": "100", "noop-objects": "100", "runs": "1"}

// sizes is a comma-separated list of object counts as a flag.Value.
type sizes struct{ list *[]int }

func (s sizes) String() string {
	if s.list == nil {
		return ""
	}
	parts := make([]string, len(*s.list))
	for i, n := range *s.list {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (s sizes) Set(v string) error {
	var out []int
	for part := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("%q is not a number of objects", part)
		}
		out = append(out, n)
	}
	*s.list = out
	return nil
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{objects: []int{100, 1000, 5000, 10000}}
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(sizes{&o.objects}, "objects", "comma-separated numbers of objects of the Stack, each measured on its own control plane")
	fs.IntVar(&o.noopObjects, "noop-objects", 1000, "the size (one of -objects) at which no-op and forced re-apply reconciles are measured")
	fs.IntVar(&o.runs, "runs", 3, "runs of every figure, each size on a fresh control plane; tables show min and median")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long a Stack may take to become Ready (and its apply timeout)")
	fs.StringVar(&o.output, "o", "text", `output format: "text" or "markdown"`)
	fs.StringVar(&o.headlines, "headlines", "", "also write the headline figures into this directory, for bench/cmd/summary")
	fs.StringVar(&o.update, "update", "", "with -o markdown, also write the output between the apply markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.rateLimit, "rate-limit", rateLimitBench, `client rate limit of the agent and the floor: "bench" (QPS 1000, burst 2000) or "agent" (the defaults of flotilla agent: --kube-api-qps 50, --kube-api-burst 300)`)
	fs.StringVar(&o.profile, "profile", "", "write the agent's CPU profile of the initial apply and of the prune, and its heap after each, into this directory (go tool pprof FILE)")
	fs.BoolVar(&o.quick, "quick", false, "N=100 only, one run: a smoke run (explicit flags still win)")
	if err := harness.ParseFlags(fs, args, &o.quick, quickOptions); err != nil {
		return o, err
	}
	return o, o.validate()
}

// minObjects is the smallest Stack: a Namespace, the CRD and one of each kind.
const minObjects = 10

func (o options) validate() error {
	var errs []error
	if len(o.objects) == 0 {
		errs = append(errs, errors.New("-objects names no size"))
	}
	for _, n := range o.objects {
		if n < minObjects {
			errs = append(errs, fmt.Errorf("-objects: %d is below the minimum of %d", n, minObjects))
		}
	}
	if o.runs < 1 {
		errs = append(errs, fmt.Errorf("-runs must be at least 1, got %d", o.runs))
	}
	if o.timeout < time.Minute || o.timeout > v1alpha1.MaxApplyTimeout {
		errs = append(errs, fmt.Errorf("-timeout must be from 1m to %s (a Stack's longest timeout), got %s", v1alpha1.MaxApplyTimeout, o.timeout))
	}
	errs = append(errs, harness.CheckOutput(o.output, o.update))
	if o.rateLimit != rateLimitBench && o.rateLimit != rateLimitAgent {
		errs = append(errs, fmt.Errorf(`-rate-limit must be "bench" or "agent", got %q`, o.rateLimit))
	}
	return errors.Join(errs...)
}

// wantsNoop reports whether the no-op reconciles are measured at n objects.
func (o options) wantsNoop(n int) bool { return n == o.noopObjects }

// measuresNoop reports whether any size measures the no-op reconciles.
func (o options) measuresNoop() bool { return slices.Contains(o.objects, o.noopObjects) }

// qps returns the client QPS and burst of the agent and the floor.
func (o options) qps() (float32, int) {
	if o.rateLimit == rateLimitAgent {
		d := agent.DefaultOptions()
		return d.KubeAPIQPS, d.KubeAPIBurst
	}
	return benchQPS, benchBurst
}

func main() { harness.Main("apply", parseOptions, run) }

// run builds the agent, measures every run, then writes the report to
// stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctrl.SetLogger(logr.Discard())
	log := harness.NewProgress(stderr)
	tmp, err := os.MkdirTemp("", "flotilla-bench-apply-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rep := report{o: o, machine: harness.DescribeMachine(controlplane.ModuleRoot())}
	log.Printf("building flotilla")
	bin := tmp + "/flotilla"
	if err := harness.BuildFlotilla(ctx, controlplane.ModuleRoot(), bin); err != nil {
		return err
	}
	for i := range o.runs {
		for _, n := range o.objects {
			log.Printf("run %d/%d, %d objects", i+1, o.runs, n)
			res, err := runOnce(ctx, o, bin, i, n, log, &rep.machine)
			if err != nil {
				return fmt.Errorf("run %d, %d objects: %w", i+1, n, err)
			}
			rep.add(n, res)
		}
	}
	rep.elapsed = log.Elapsed()
	return rep.publish(stdout, log)
}
