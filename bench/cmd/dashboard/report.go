package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// The targets of issue #18.
const (
	renderTarget = time.Second     // "render in under a second once loaded"
	changeTarget = 2 * time.Second // "changes appear within 2 s"
	// kindsWatched are the kinds the server watches in each cluster:
	// Stacks, GitRepositories, Canaries, ImagePolicies, ImageUpdates.
	kindsWatched = 5
)

// report is every run's results and how they were obtained.
type report struct {
	o                  options
	machine            harness.Machine
	runs               []runResult
	load, loadEnd      string // 1-minute load average when the runs started and ended
	started, populated time.Duration
	elapsed            time.Duration
}

// figure is one line of a table: how to read it off a run and print it.
type figure struct {
	name   string
	of     func(runResult) float64
	format func(float64) string
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// spread formats fig over the runs as "min / median".
func (r report) spread(fig figure) string {
	values := make([]float64, len(r.runs))
	for i, run := range r.runs {
		values[i] = fig.of(run)
	}
	return harness.FormatSpread(harness.SpreadOf(values), fig.format)
}

// cells is the size of the matrix.
func (r report) cells() int { return r.o.clusters * r.o.stacks }

// browser is whether the runs had a browser.
func (r report) browser() bool { return r.o.chromium != "" }

// startFigures are the rows of the start and load table.
func (r report) startFigures() []figure {
	figs := []figure{
		{"server start → /api/fleet shows every cluster and Stack", func(x runResult) float64 { return seconds(x.ready) }, harness.FormatSeconds},
		{"GET /api/fleet, body", func(x runResult) float64 { return float64(x.fleetBytes) }, formatKiB},
		{fmt.Sprintf("GET /api/fleet, median of %d reads", fleetReads), func(x runResult) float64 { return seconds(x.fleetRead) }, harness.FormatSeconds},
	}
	if r.browser() {
		figs = append(figs,
			figure{fmt.Sprintf("page: navigation → matrix of %d cells", r.cells()), func(x runResult) float64 { return seconds(x.load.full) }, harness.FormatSeconds},
			figure{"page: navigation → first Fleet received", func(x runResult) float64 { return seconds(x.load.data) }, harness.FormatSeconds},
			figure{"page: first Fleet received → full matrix (render)", func(x runResult) float64 { return seconds(x.load.render()) }, harness.FormatSeconds})
	}
	return figs
}

// latencies are the change delays of the table of changes.
func (r report) latencies() []struct {
	name string
	of   func(runResult) []time.Duration
} {
	rows := []struct {
		name string
		of   func(runResult) []time.Duration
	}{
		{"status patch → `cluster` event, first of the streams", func(x runResult) []time.Duration { return x.first }},
		{fmt.Sprintf("status patch → `cluster` event, all %d streams", r.o.streams), func(x runResult) []time.Duration { return x.all }},
	}
	if r.browser() {
		rows = append(rows, struct {
			name string
			of   func(runResult) []time.Duration
		}{"status patch → the page's cell (data-ready)", func(x runResult) []time.Duration { return x.page }})
	}
	return rows
}

// resourceFigures are the rows of the server's resources and watches.
func (r report) resourceFigures() []figure {
	count := func(w func(runResult) watches) func(runResult) float64 {
		return func(x runResult) float64 { return float64(w(x).total()) }
	}
	figs := []figure{
		{"watch requests on Flotilla's kinds, no client", count(func(x runResult) watches { return x.idle }), formatCount},
		{fmt.Sprintf("watch requests, %d event streams open", r.o.streams), count(func(x runResult) watches { return x.withStreams }), formatCount},
	}
	if r.browser() {
		figs = append(figs, figure{fmt.Sprintf("watch requests, %d streams and Chromium's page", r.o.streams), count(func(x runResult) watches { return x.withBrowser }), formatCount})
	}
	return append(figs,
		figure{"server peak RSS (VmHWM)", func(x runResult) float64 { return float64(x.peakRSS) }, harness.FormatBytes},
		figure{"server CPU, start to end of the run", func(x runResult) float64 { return seconds(x.cpu) }, harness.FormatSeconds},
		figure{fmt.Sprintf("server CPU during the %d changes", r.o.changes), func(x runResult) float64 { return seconds(x.changesCPU) }, harness.FormatSeconds},
	)
}

func formatKiB(b float64) string   { return fmt.Sprintf("%.0f KiB", b/1024) }
func formatCount(n float64) string { return fmt.Sprintf("%.0f", n) }

// command reproduces the figures.
func (r report) command() string {
	cmd := fmt.Sprintf("go run ./bench/cmd/dashboard -clusters %d -stacks %d -changes %d -streams %d -runs %d",
		r.o.clusters, r.o.stacks, r.o.changes, r.o.streams, r.o.runs)
	if !r.browser() {
		cmd += ` -chromium ""`
	}
	return cmd
}

func (r report) write(w io.Writer) error {
	p := &harness.Printer{W: w, Markdown: r.o.output == "markdown"}
	r.intro(p)
	p.Heading("Start and load")
	t := harness.Table{Header: []string{"figure", "min / median of " + harness.Plural(len(r.runs), "run")}}
	for _, f := range r.startFigures() {
		t.Rows = append(t.Rows, []string{f.name, r.spread(f)})
	}
	p.Table(t)
	p.Command(r.command())
	p.Heading(fmt.Sprintf("Change latency, %s per run", harness.Plural(r.o.changes, "change")))
	t = harness.Table{Header: []string{"delay", "p50", "p95", "max"}}
	for _, l := range r.latencies() {
		row := []string{l.name}
		for _, p := range []float64{50, 95, 100} {
			row = append(row, r.spread(figure{of: func(x runResult) float64 { return seconds(harness.Percentile(l.of(x), p)) }, format: harness.FormatSeconds}))
		}
		t.Rows = append(t.Rows, row)
	}
	p.Table(t)
	p.Command(r.command())
	p.Heading("Server resources and watches")
	t = harness.Table{Header: []string{"figure", "min / median of " + harness.Plural(len(r.runs), "run")}}
	for _, f := range r.resourceFigures() {
		t.Rows = append(t.Rows, []string{f.name, r.spread(f)})
	}
	p.Table(t)
	p.Command(r.command())
	r.targets(p)
	r.meaning(p)
	r.notes(p)
	return p.Err
}

// median is the median of fig over the runs.
func (r report) median(of func(runResult) float64) float64 {
	values := make([]float64, len(r.runs))
	for i, x := range r.runs {
		values[i] = of(x)
	}
	return harness.Median(values)
}

// meaning reads the figures (medians over the runs) and says what would
// improve them.
func (r report) meaning(p *harness.Printer) {
	if !p.Markdown || len(r.runs) == 0 {
		return
	}
	n := float64(r.o.clusters)
	ready := r.median(func(x runResult) float64 { return seconds(x.ready) })
	rss := r.median(func(x runResult) float64 { return float64(x.peakRSS) })
	body := r.median(func(x runResult) float64 { return float64(x.fleetBytes) })
	stream := r.median(func(x runResult) float64 { return seconds(harness.Percentile(x.first, 50)) })
	p.Printf("What it means (medians over the runs):\n\n")
	p.Printf("- The server's cost follows the clusters, not the browsers: the watch count is the same with no client as with %d event streams and a page, and a change is encoded once per cluster for every stream. Its peak memory is %s for %d clusters, %s per cluster of %d Stacks, CRDs' clients and caches included.\n",
		r.o.streams, harness.FormatBytes(rss), r.o.clusters, harness.FormatBytes(rss/n), r.o.stacks)
	p.Printf("- Start: %s until the whole fleet shows, with every cluster watched at once. Before its row shows, each cluster costs a `/readyz` probe and, per kind, a List of one object (the RBAC check) and the informer's own List; the slowest of %d clusters sets the figure.\n",
		harness.FormatSeconds(ready), r.o.clusters)
	p.Printf("- A change reaches the first stream after %s (median): the kube-apiserver's watch event, the informer, the server's row rebuild and the `cluster` event, which the server sends at once unless it sent that cluster less than 100 ms before.", harness.FormatSeconds(stream))
	if r.browser() {
		page := r.median(func(x runResult) float64 { return seconds(harness.Percentile(x.page, 50)) })
		p.Printf(" The page shows it %s after the stream: its own parsing and re-render of the cluster's row.", harness.FormatSeconds(page-stream))
	}
	p.Printf("\n\nWhat would improve it:\n\n")
	p.Printf("- A `cluster` event carries the whole cluster, all its %d rows (about %s of JSON, /api/fleet's %s over %d clusters) for a change of one Stack: sending the changed rows only would divide the bytes per change by the Stacks per cluster, which counts on slow links and for clusters of many Stacks, not for the latency on loopback.\n",
		r.o.stacks, formatKiB(body/n), formatKiB(body), r.o.clusters)
	p.Printf("- The start lists each kind twice per cluster (the RBAC check, then the informer): letting the informer's first List answer the RBAC question would halve the start's requests, %d instead of %d.\n",
		r.o.clusters*kindsWatched, 2*r.o.clusters*kindsWatched)
	p.Printf("- The informers cache every Stack whole, its inventory and drift records included (managed fields are already stripped); the matrix needs their counts only, so a cache transform that keeps the counts would shrink the memory of clusters whose Stacks own thousands of objects, at the cost of reading the Stack page's inventory from the API server.\n\n")
}

// worst is the largest value of fig over the runs.
func (r report) worst(of func(runResult) time.Duration) time.Duration {
	var out time.Duration
	for _, x := range r.runs {
		out = max(out, of(x))
	}
	return out
}

// verdict says whether d is within target.
func verdict(d, target time.Duration) string {
	if d < target {
		return "met"
	}
	return "NOT met"
}

// targets compares the runs with issue #18's figures, each at its worst
// over the runs.
func (r report) targets(p *harness.Printer) {
	if !p.Markdown {
		p.Printf("Against issue #18 (worst run):\n")
	} else {
		p.Printf("Against the targets of issue #18, each at its worst over the runs:\n\n")
	}
	if r.browser() {
		render := r.worst(func(x runResult) time.Duration { return x.load.render() })
		p.Printf("- \"50 clusters by 20 Stacks render in under a second once loaded\": %d x %d rendered %s after the first Fleet arrived: %s.\n",
			r.o.clusters, r.o.stacks, harness.FormatSeconds(render.Seconds()), verdict(render, renderTarget))
	}
	slowest := r.worst(func(x runResult) time.Duration { return slices.Max(x.all) })
	what := fmt.Sprintf("the slowest of %d changes x %s reached every event stream after %s", r.o.changes, harness.Plural(len(r.runs), "run"), harness.FormatSeconds(slowest.Seconds()))
	if r.browser() {
		page := r.worst(func(x runResult) time.Duration { return slices.Max(x.page) })
		slowest = max(slowest, page)
		what += fmt.Sprintf(", the page's cell after %s", harness.FormatSeconds(page.Seconds()))
	}
	p.Printf("- \"changes appear within 2 s\": %s: %s.\n", what, verdict(slowest, changeTarget))
	want := r.o.clusters * kindsWatched
	counts, kept := map[int]bool{}, "met"
	for _, x := range r.runs {
		for _, w := range []watches{x.idle, x.withStreams, x.withBrowser} {
			if w != nil {
				counts[w.total()] = true
			}
		}
	}
	if len(counts) != 1 || !counts[want] {
		kept = "NOT met"
	}
	p.Printf("- \"one watch per cluster and kind, not one per browser\": %s watch requests with no client and with every client open, for %d clusters x %d kinds = %d: %s.\n\n",
		joinCounts(counts), r.o.clusters, kindsWatched, want, kept)
}

// joinCounts renders the counts seen: "250", or "250 and 260".
func joinCounts(counts map[int]bool) string {
	var s []string
	for _, n := range slices.Sorted(maps.Keys(counts)) {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, " and ")
}

// intro says what was measured and where.
func (r report) intro(p *harness.Printer) {
	if !p.Markdown {
		p.Printf("Dashboard benchmark: %s\n%d clusters x %d Stacks, %s on one fleet in %s; cells are min / median over runs (one number when equal)\n\n",
			r.machine, r.o.clusters, r.o.stacks, harness.Plural(len(r.runs), "run"), r.elapsed.Round(time.Second))
		return
	}
	p.Printf("Measured on %s at commit `%s` on %s, control plane from `hack/testenv.sh`, in %s. ", r.machine.Date, r.machine.Commit, r.machine, r.elapsed.Round(time.Second))
	p.Printf("Whole section: `make bench-dashboard`. Each cell is the minimum / median over %s (one number when they are equal).\n\n", harness.Plural(len(r.runs), "run"))
	p.Printf("`flotilla dashboard`, built from this commit, runs as its own process over a kubeconfig with a context per cluster: %d clusters, each a kube-apiserver of its own on one shared etcd, each with %d Stacks and their GitRepository in `%s`. "+
		"Their statuses are written through the status subresource as an agent writes them: Ready (one Stack in 17 not Ready), `lastAppliedRevision` (one in 7 a commit behind the source), an inventory of 5 to 40 objects, and 1 to 3 drift records of the last hour on one Stack in 4. No agent runs: the benchmark measures the dashboard, not the reconciles. "+
		"Each run starts a fresh dashboard process on the same fleet; the server's CPU and memory are read from `/proc/<pid>`.\n\n", r.o.clusters, r.o.stacks, namespace)
	p.Printf("- **server start**: from starting the process until `GET /api/fleet` (read every %s) shows every cluster reachable with all its Stacks.\n", pollInterval)
	if r.browser() {
		p.Printf("- **page**: a fresh headless Chromium (Debian's `chromium`, driven by chromedp) opens the page; a recorder the benchmark adds before the page's scripts (`bench/cmd/dashboard/recorder.js`) notes, in the page's clock from the navigation's start, when the first Fleet arrived (the event stream's `fleet` event or the end of `/api/fleet`'s body, whichever first) and when the matrix first held all %d `td[data-stack]` cells. *Render* is the difference: the page's work once the data is there.\n", r.cells())
	}
	p.Printf("- **change latency**: %d times per run, one at a time with a random pause of up to %s between, the status of a random Stack of a random cluster is merge-patched: a new `lastAppliedRevision` and the opposite Ready status. The clock starts before the patch is sent and stops when a `cluster` event carrying the Stack's new revision and readiness is read off each of %d `GET /api/events` streams held by the benchmark", r.o.changes, maxPause, r.o.streams)
	if r.browser() {
		p.Printf(", and when the page's cell shows the new `data-ready` and `data-revision` (noted by the recorder's MutationObserver, in the machine's clock)")
	}
	p.Printf(".\n- **watch requests**: kube-apiserver's `%s` gauge, its `WATCH` series of group `flotilla.io`, summed over the clusters: once the fleet shows and the count has stayed the same for %d reads %s apart (the server starts each kind's informer without waiting for the others), again with the event streams open, and again with the page open too.\n\n", watchMetric, steadyReads, steadyInterval)
}

// notes are the details that qualify the figures.
func (r report) notes(p *harness.Printer) {
	if !p.Markdown || len(r.runs) == 0 {
		return
	}
	last := r.runs[len(r.runs)-1]
	p.Printf("Notes:\n\n")
	p.Printf("- Watches by resource in the last run, with every client open: %s.\n", orNone(last.withBrowser.String(), last.withStreams.String()))
	p.Printf("- The server coalesces the changes of a cluster into at most one `cluster` event per 100 ms; the first stream received %d `cluster` events during the last run's %d changes, %d of which marked a cluster unreachable: its `/readyz` probe (every 2 s, 2 s timeout) failed, and the next one brought it back. Every other cluster event carries a change of the benchmark's or a probe's.\n",
		last.clusterEvents, r.o.changes, last.unreachableEvents)
	p.Printf("- Starting etcd and the %d kube-apiservers (%d at a time, with Flotilla's CRDs) took %s, and writing the %d Stacks and %d GitRepositories with their statuses %s; neither is part of any figure.\n",
		r.o.clusters, r.o.parallel, harness.FormatSeconds(r.started.Seconds()), r.cells(), r.o.clusters, harness.FormatSeconds(r.populated.Seconds()))
	p.Printf("- Everything runs on the same %d CPUs: etcd, the kube-apiservers, the dashboard, Chromium and the benchmark. The 1-minute load average was %s when the runs started and %s when they ended: the machine may have been running other work, which shows in the spread between min and median.\n", r.machine.CPUs, r.load, orNone(r.loadEnd, "unknown"))
}

// orNone is s, or else when s is empty.
func orNone(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// headlines are the summary table's figures.
func (r report) headlines() []harness.Headline {
	size := fmt.Sprintf("%d x %d Stacks", r.o.clusters, r.o.stacks)
	head := func(name string, f figure) harness.Headline {
		values := make([]float64, len(r.runs))
		for i, x := range r.runs {
			values[i] = f.of(x)
		}
		sp := harness.SpreadOf(values)
		return harness.Headline{Section: "Dashboard", Figure: name + ", " + size, Min: f.format(sp.Min), Median: f.format(sp.Median), Runs: len(r.runs)}
	}
	start := r.startFigures()
	out := []harness.Headline{head("dashboard start to full fleet", start[0])}
	p95 := func(of func(runResult) []time.Duration) func(runResult) float64 {
		return func(x runResult) float64 { return seconds(harness.Percentile(of(x), 95)) }
	}
	out = append(out, head("dashboard change to event stream p95", figure{of: p95(func(x runResult) []time.Duration { return x.all }), format: harness.FormatSeconds}))
	if r.browser() {
		out = append(out,
			head("dashboard page render once loaded", start[len(start)-1]),
			head("dashboard change to page p95", figure{of: p95(func(x runResult) []time.Duration { return x.page }), format: harness.FormatSeconds}))
	}
	res := r.resourceFigures()
	return append(out, head("dashboard server peak RSS", res[len(res)-3]))
}
