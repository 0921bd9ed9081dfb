package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// report is every run's results and how they were obtained.
type report struct {
	o       options
	machine harness.Machine
	runs    []runResult
	elapsed time.Duration
}

func (r report) write(w io.Writer) error {
	p := &printer{harness.Printer{W: w, Markdown: r.o.output == "markdown"}}
	p.intro(r)
	if r.o.wants("revert") {
		p.revert(r)
	}
	if r.o.wants("cost") {
		p.cost(r)
	}
	p.notes(r)
	return p.Err
}

// printer writes the report.
type printer struct{ harness.Printer }

func (p *printer) intro(r report) {
	if p.Markdown {
		p.Printf("Measured on %s at commit `%s` on %s, control plane from `hack/testenv.sh`, in %s. ",
			r.machine.Date, r.machine.Commit, r.machine, r.elapsed.Round(time.Second))
		p.Printf("Whole section: `make bench-drift`. Each cell is the minimum / median over %s, each on a fresh control plane (one number when they are equal).\n\n", harness.Plural(len(r.runs), "run"))
		return
	}
	p.Printf("Drift benchmark: %s\n%s in %s; cells are min / median over runs (one number when equal)\n\n", r.machine, harness.Plural(len(r.runs), "run"), r.elapsed.Round(time.Second))
}

func (p *printer) revert(r report) {
	o := r.o
	p.Heading("Revert latency")
	if p.Markdown {
		p.Printf("A `flotilla agent` process applies a Stack of %d ConfigMaps. %d times, one at a time, field manager `%s` merge-patches the managed field `data.value` of one of them; "+
			"the latency runs from the patch response to the watch event that shows the Git value back. One warm-up edit before them is not counted.\n\n", o.revertObjects, o.edits, editor)
	} else {
		p.Printf("%d ConfigMaps, %d edits per run by %s, patch response to the watch event of the reverted value\n\n", o.revertObjects, o.edits, editor)
	}
	stats := []struct {
		name string
		of   func(harness.Latency) time.Duration
	}{
		{"p50", func(l harness.Latency) time.Duration { return l.P50 }},
		{"p99", func(l harness.Latency) time.Duration { return l.P99 }},
		{"max", func(l harness.Latency) time.Duration { return l.Max }},
		{"mean", func(l harness.Latency) time.Duration { return l.Mean }},
	}
	runs := harness.Plural(len(r.runs), "run")
	t := harness.Table{Header: []string{"revert latency", "min of " + runs, "median of " + runs}}
	for _, s := range stats {
		var values []float64
		for _, run := range r.runs {
			values = append(values, s.of(harness.SummarizeLatencies(run.revert)).Seconds())
		}
		sp := harness.SpreadOf(values)
		t.Rows = append(t.Rows, []string{s.name, harness.FormatSeconds(sp.Min), harness.FormatSeconds(sp.Median)})
	}
	p.Table(t)
	p.Command(fmt.Sprintf("go run ./bench/cmd/drift -only revert -revert-objects %d -edits %d -runs %d%s", o.revertObjects, o.edits, o.runs, r.rateLimitFlag()))
}

func (p *printer) cost(r report) {
	o := r.o
	p.Heading(fmt.Sprintf("Reconcile cost at %d objects", o.objects))
	if p.Markdown {
		p.Printf("A Stack applies %d objects (ConfigMaps, headless Services and ServiceAccounts in turn, one file each) in %d Namespaces it also creates; interval %s. "+
			"Per reconcile: the controllers' API requests by verb (dry-runs apart from writes), the mean reconcile wall time (`flotilla_reconcile_duration_seconds`, kind Stack), "+
			"and the CPU seconds of the benchmark process over the window.\n\n", o.objects, o.namespaces, o.interval)
		p.Printf("- **first apply**: from creating the Stack until it is Ready, status written.\n")
		p.Printf("- **no-op**: %d interval reconciles of the Ready Stack with nothing changed, after one warm-up; each window runs from the end of one reconcile to the end of the next, so its CPU includes one interval of idle.\n", o.reconciles)
		p.Printf("- **forced re-apply**: the same after restarting the controllers with a `StackReconciler` whose `SafetyInterval` is 1ns, so no reconcile may skip the apply: the engine reads and dry-runs every object and writes those that differ, here none (the restart's own re-apply is the warm-up).\n")
		p.Printf("- **idle baseline**: one interval with the controllers running and no reconcile due: the floor of the CPU column.\n\n")
	} else {
		p.Printf("%d objects in %d namespaces, interval %s; per reconcile; CPU of this process over the window\n\n", o.objects, o.namespaces, o.interval)
	}
	header := []string{"reconcile", "n"}
	for _, v := range harness.Verbs {
		header = append(header, string(v))
	}
	t := harness.Table{Header: append(header, "wall", "CPU")}
	for _, ph := range phases {
		spread := func(of func(harness.Cost) float64) harness.Spread {
			var values []float64
			for _, run := range r.runs {
				values = append(values, of(run.cost[ph]))
			}
			return harness.SpreadOf(values)
		}
		row := []string{ph.String(), harness.FormatSpread(spread(func(c harness.Cost) float64 { return c.Reconciles }), formatCount)}
		for _, v := range harness.Verbs {
			row = append(row, harness.FormatSpread(spread(func(c harness.Cost) float64 { return c.Requests[v] }), formatCount))
		}
		wall := "-"
		if ph != phaseIdle {
			wall = harness.FormatSpread(spread(func(c harness.Cost) float64 { return c.Wall }), harness.FormatSeconds)
		}
		row = append(row, wall, harness.FormatSpread(spread(func(c harness.Cost) float64 { return c.CPU }), harness.FormatSeconds))
		t.Rows = append(t.Rows, row)
	}
	p.Table(t)
	p.Command(fmt.Sprintf("go run ./bench/cmd/drift -only cost -objects %d -namespaces %d -reconciles %d -interval %s -runs %d%s",
		o.objects, o.namespaces, o.reconciles, o.interval, o.runs, r.rateLimitFlag()))
}

func (p *printer) notes(r report) {
	if !p.Markdown {
		return
	}
	p.Printf("Notes:\n\n")
	p.Printf("- Revert latency: the agent is `bin/flotilla agent`, built from this commit and run as its own process against the control plane, and stopped before the cost figure starts.\n")
	p.Printf("- Reconcile cost: the GitRepository and Stack controllers and the drift watcher run in the benchmark process, wired as `internal/agent` wires them, so their requests can be counted by verb (dry-runs apart) by a wrapper of their rest transport. The benchmark's own requests (its edits, watch and probes) are not counted. The Apply section measures the same no-op reconcile on the agent process.\n")
	p.Printf("- CPU is `utime + stime` of `/proc/self/stat`, in 10 ms ticks: the controllers and the benchmark's probes, not kube-apiserver or etcd, which run as separate processes on the same CPUs.\n")
	if r.o.rateLimit == "agent" {
		p.Printf("- Client rate limit: the defaults of `bin/flotilla agent` (`--kube-api-qps 50`, `--kube-api-burst 300`).\n")
	} else {
		p.Printf("- Client rate limit: envtest's rest config (QPS 1000, burst 2000), as the integration tests; the agent process gets the same through `--kube-api-qps 1000 --kube-api-burst 2000`. `bin/flotilla agent` defaults to QPS 50, burst 300 (`--kube-api-qps`, `--kube-api-burst`): add `-rate-limit agent` to measure with those.\n")
	}
}

func (r report) rateLimitFlag() string {
	if r.o.rateLimit == "agent" {
		return " -rate-limit agent"
	}
	return ""
}

// formatCount renders a count per reconcile: whole numbers as such.
func formatCount(n float64) string {
	if n == math.Trunc(n) {
		return fmt.Sprintf("%.0f", n)
	}
	return fmt.Sprintf("%.1f", n)
}

// headlines are the revert percentiles, for the summary table.
func (r report) headlines() []harness.Headline {
	if !r.o.wants("revert") {
		return nil
	}
	var out []harness.Headline
	for _, q := range []struct {
		name string
		of   func(harness.Latency) time.Duration
	}{{"p50", func(l harness.Latency) time.Duration { return l.P50 }}, {"p99", func(l harness.Latency) time.Duration { return l.P99 }}} {
		var values []float64
		for _, run := range r.runs {
			values = append(values, q.of(harness.SummarizeLatencies(run.revert)).Seconds())
		}
		sp := harness.SpreadOf(values)
		out = append(out, harness.Headline{Section: "Drift", Figure: fmt.Sprintf("drift revert latency %s, %d edits", q.name, r.o.edits),
			Min: harness.FormatSeconds(sp.Min), Median: harness.FormatSeconds(sp.Median), Runs: len(r.runs)})
	}
	return out
}
