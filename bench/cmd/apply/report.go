package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// report is every run's results and how they were obtained.
type report struct {
	o       options
	machine harness.Machine
	// sizes are the results by number of objects, one per run.
	sizes   map[int][]sizeResult
	elapsed time.Duration
}

// add records one run at n objects.
func (r *report) add(n int, res sizeResult) {
	if r.sizes == nil {
		r.sizes = map[int][]sizeResult{}
	}
	r.sizes[n] = append(r.sizes[n], res)
}

// publish writes the report to stdout and, with -update, into the Apply
// section of that file.
func (r report) publish(stdout io.Writer, log *harness.Progress) error {
	return harness.Publish(harness.Report{Section: "Apply", Write: r.write, Headlines: r.headlines()}, stdout, r.o.headlines, r.o.update, log)
}

func (r report) write(w io.Writer) error {
	p := &printer{harness.Printer{W: w, Markdown: r.o.output == "markdown"}}
	p.intro(r)
	p.section("Initial apply", r.applyText(), r.applyTable(), r.command(r.o.objects))
	p.section("Agent resources", r.resourcesText(), r.resourcesTable(), r.command(r.o.objects))
	if r.o.measuresNoop() {
		p.section(fmt.Sprintf("No-op reconciles at %d objects", r.o.noopObjects), r.noopText(), r.noopTable(), r.command([]int{r.o.noopObjects}))
	}
	p.section("Prune", r.pruneText(), r.pruneTable(), r.command(r.o.objects))
	p.notes(r)
	return p.Err
}

// runs is "3 runs" for the table headers.
func (r report) runs() string { return harness.Plural(r.o.runs, "run") }

// spread returns the min and median of of over the runs at n objects.
func (r report) spread(n int, of func(sizeResult) float64) harness.Spread {
	var values []float64
	for _, res := range r.sizes[n] {
		values = append(values, of(res))
	}
	return harness.SpreadOf(values)
}

// cell formats the min / median of of at n objects.
func (r report) cell(n int, of func(sizeResult) float64, format func(float64) string) string {
	return harness.FormatSpread(r.spread(n, of), format)
}

// ratio is Flotilla's initial apply time over the floor's in one run.
func ratio(res sizeResult) float64 {
	if res.floor <= 0 {
		return 0
	}
	return res.flotilla.Seconds() / res.floor.Seconds()
}

// pruneRatio is a run's prune over its floor of bare deletes.
func pruneRatio(res sizeResult) float64 {
	if res.pruneFloor <= 0 {
		return 0
	}
	return res.prune.Seconds() / res.pruneFloor.Seconds()
}

func formatRatio(v float64) string { return fmt.Sprintf("%.1fx", v) }

func formatMiB(v float64) string { return fmt.Sprintf("%.0f MiB", v/(1<<20)) }

func formatCount(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (r report) applyTable() harness.Table {
	t := harness.Table{Header: []string{"objects", "Flotilla agent", "floor (server-side apply only)", "ratio (Flotilla / floor)"}}
	for _, n := range r.o.objects {
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(n),
			r.cell(n, func(s sizeResult) float64 { return s.flotilla.Seconds() }, harness.FormatSeconds),
			r.cell(n, func(s sizeResult) float64 { return s.floor.Seconds() }, harness.FormatSeconds),
			r.cell(n, ratio, formatRatio),
		})
	}
	return t
}

func (r report) resourcesTable() harness.Table {
	t := harness.Table{Header: []string{"objects", "peak RSS", "CPU, start to Ready", "CPU of the apply"}}
	for _, n := range r.o.objects {
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(n),
			r.cell(n, func(s sizeResult) float64 { return float64(s.peakRSS) }, formatMiB),
			r.cell(n, func(s sizeResult) float64 { return s.cpuTotal.Seconds() }, harness.FormatSeconds),
			r.cell(n, func(s sizeResult) float64 { return s.cpuApply.Seconds() }, harness.FormatSeconds),
		})
	}
	return t
}

// noopMethods are the HTTP methods of the no-op table, in column order.
var noopMethods = []string{"GET", "PATCH", "POST", "PUT", "DELETE"}

func (r report) noopTable() harness.Table {
	t := harness.Table{Header: append(append([]string{"reconcile", "n"}, noopMethods...), "wall", "agent CPU")}
	n := r.o.noopObjects
	for _, k := range noopKinds {
		of := func(f func(cost) float64) func(sizeResult) float64 {
			return func(s sizeResult) float64 { return f(s.noop[k]) }
		}
		row := []string{k.String(), r.cell(n, of(func(c cost) float64 { return c.reconciles }), formatCount)}
		for _, m := range noopMethods {
			row = append(row, r.cell(n, of(func(c cost) float64 { return c.requests[m] }), formatCount))
		}
		row = append(row,
			r.cell(n, of(func(c cost) float64 { return c.wall }), harness.FormatSeconds),
			r.cell(n, of(func(c cost) float64 { return c.cpu }), harness.FormatSeconds))
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (r report) pruneTable() harness.Table {
	t := harness.Table{Header: []string{"objects", "removed", "push to pruned and Ready", "floor (deletes only)", "ratio (Flotilla / floor)"}}
	for _, n := range r.o.objects {
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(n),
			r.cell(n, func(s sizeResult) float64 { return float64(s.pruned) }, formatCount),
			r.cell(n, func(s sizeResult) float64 { return s.prune.Seconds() }, harness.FormatSeconds),
			r.cell(n, func(s sizeResult) float64 { return s.pruneFloor.Seconds() }, harness.FormatSeconds),
			r.cell(n, pruneRatio, formatRatio),
		})
	}
	return t
}

// command is the command that measures a figure at these sizes again.
func (r report) command(objects []int) string {
	cmd := "go run ./bench/cmd/apply -objects " + sizes{&objects}.String()
	if r.o.noopObjects != 1000 && slices.Contains(objects, r.o.noopObjects) {
		cmd += " -noop-objects " + strconv.Itoa(r.o.noopObjects)
	}
	cmd += fmt.Sprintf(" -runs %d", r.o.runs)
	if r.o.rateLimit == rateLimitAgent {
		cmd += " -rate-limit agent"
	}
	return cmd
}

// headlines are the summary table's figures: the initial apply and its
// ratio to the floor at every size, the no-op reconcile, the prune.
func (r report) headlines() []harness.Headline {
	var out []harness.Headline
	add := func(n int, figure string, of func(sizeResult) float64, format func(float64) string) {
		sp := r.spread(n, of)
		out = append(out, harness.Headline{Section: "Apply", Figure: figure, Min: format(sp.Min), Median: format(sp.Median), Runs: len(r.sizes[n])})
	}
	for _, n := range r.o.objects {
		add(n, fmt.Sprintf("initial apply, %d objects", n), func(s sizeResult) float64 { return s.flotilla.Seconds() }, harness.FormatSeconds)
		add(n, fmt.Sprintf("initial apply / server-side apply floor, %d objects", n), ratio, formatRatio)
		add(n, fmt.Sprintf("agent peak RSS, %d objects", n), func(s sizeResult) float64 { return float64(s.peakRSS) }, formatMiB)
	}
	if n := r.o.noopObjects; r.o.measuresNoop() && len(r.sizes[n]) > 0 {
		for _, k := range noopKinds {
			add(n, fmt.Sprintf("no-op reconcile at %d objects, %s: wall", n, k), func(s sizeResult) float64 { return s.noop[k].wall }, harness.FormatSeconds)
		}
	}
	for _, n := range r.o.objects {
		add(n, fmt.Sprintf("prune half of %d objects", n), func(s sizeResult) float64 { return s.prune.Seconds() }, harness.FormatSeconds)
		add(n, fmt.Sprintf("prune / delete floor, half of %d objects", n), pruneRatio, formatRatio)
	}
	return out
}
