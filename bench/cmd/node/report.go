package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// section is the BENCHMARKS.md section of the report.
const section = "Real node"

// startOrder is the order in which internal/localnode starts its components: the
// order of the memory table.
var startOrder = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "registry", "containerd", "kubelet", "kube-proxy", "coredns"}

// report is every run's results and how they were obtained.
type report struct {
	o       options
	machine harness.Machine
	runs    []runResult
	load    string // 1-minute load average when the runs started
	elapsed time.Duration
}

// timing is one row of a table of durations.
type timing struct {
	name string
	of   func(runResult) time.Duration
}

var (
	startUp    = timing{"start-up: localnode.Start until it returns, the Node Ready", func(r runResult) time.Duration { return r.start }}
	stop       = timing{"stop: Cluster.Stop", func(r runResult) time.Duration { return r.stop }}
	available  = timing{fmt.Sprintf("create a Deployment of %d pause Pods, to Available", replicas), func(r runResult) time.Duration { return r.available }}
	rollingUpd = timing{"rolling update (a Pod template annotation), to Available", func(r runResult) time.Duration { return r.rollout }}
)

// spread is the min and median of a figure over the runs.
func (r report) spread(of func(runResult) float64) harness.Spread {
	values := make([]float64, 0, len(r.runs))
	for _, run := range r.runs {
		values = append(values, of(run))
	}
	return harness.SpreadOf(values)
}

func (t timing) seconds(run runResult) float64 { return t.of(run).Seconds() }

func (r report) write(w io.Writer) error {
	p := &printer{harness.Printer{W: w, Markdown: r.o.output == "markdown"}}
	p.intro(r)
	p.timings(r, "Start and stop", startUp, stop)
	p.timings(r, fmt.Sprintf("Deployment of %d pause Pods", replicas), available, rollingUpd)
	p.memory(r)
	p.notes(r)
	return p.Err
}

// printer writes the report.
type printer struct{ harness.Printer }

// command reproduces every figure: they all come from the same runs.
func (r report) command() string {
	return fmt.Sprintf("go run ./bench/cmd/node -runs %d -settle %s", r.o.runs, r.o.settle)
}

func (p *printer) intro(r report) {
	runs := harness.Plural(len(r.runs), "run")
	if !p.Markdown {
		p.Printf("Real node benchmark: %s\n%s in %s; cells are min / median over runs\n\n", r.machine, runs, r.elapsed.Round(time.Second))
		return
	}
	p.Printf("Measured on %s at commit `%s` on %s, node binaries from `hack/testenv.sh`, in %s. ",
		r.machine.Date, r.machine.Commit, r.machine, r.elapsed.Round(time.Second))
	p.Printf("Whole section: `make bench-node` (as root). Each cell is the minimum / median over %s, each on a fresh node.\n\n", runs)
	p.Printf("The real single-node cluster of `internal/localnode`, which the node tests and the demo use: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, an OCI registry, containerd with runc and the CNI bridge, kubelet, kube-proxy (iptables) and CoreDNS, each its own process on this machine. "+
		"Each run starts a node, creates a Deployment of %d Pods of the pause image the node imported (`%s`, `imagePullPolicy: IfNotPresent`, nothing pulled), rolls it once, lets the node idle for %s, reads its memory and stops it.\n\n", replicas, pauseImage, r.o.settle)
}

func (p *printer) timings(r report, heading string, rows ...timing) {
	p.Heading(heading)
	label := harness.Plural(len(r.runs), "run")
	t := harness.Table{Header: []string{"figure", "min of " + label, "median of " + label}}
	for _, row := range rows {
		sp := r.spread(row.seconds)
		t.Rows = append(t.Rows, []string{row.name, harness.FormatSeconds(sp.Min), harness.FormatSeconds(sp.Median)})
	}
	p.Table(t)
	p.Command(r.command())
}

// memoryRow is one process, or group of processes, of the memory table.
type memoryRow struct {
	name string
	of   func(runResult) (harness.Memory, bool)
}

// memoryRows are the components seen in any run, in start order, then
// the Pods' processes per Pod and the total.
func (r report) memoryRows() []memoryRow {
	var names []string
	for _, run := range r.runs {
		for name := range run.idle.components {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.SortFunc(names, byStartOrder)
	var rows []memoryRow
	for _, name := range names {
		rows = append(rows, memoryRow{name, func(run runResult) (harness.Memory, bool) {
			m, ok := run.idle.components[name]
			return m, ok
		}})
	}
	return append(rows,
		memoryRow{"per Pod: its containerd shim and pause processes", func(run runResult) (harness.Memory, bool) {
			return run.idle.pods.perPod(), run.idle.pods.Pods > 0
		}},
		memoryRow{"total: the components and every Pod", func(run runResult) (harness.Memory, bool) { return run.idle.total(), true }},
	)
}

// byStartOrder orders component names as startOrder, others after them
// by name.
func byStartOrder(a, b string) int {
	rank := func(s string) int {
		if i := slices.Index(startOrder, s); i >= 0 {
			return i
		}
		return len(startOrder)
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

// memorySpreads are the VmRSS and Pss of row over the runs that have it.
func (r report) memorySpreads(row memoryRow) (rss, pss harness.Spread) {
	var rs, ps []float64
	for _, run := range r.runs {
		if m, ok := row.of(run); ok {
			rs, ps = append(rs, float64(m.RSS)), append(ps, float64(m.PSS))
		}
	}
	return harness.SpreadOf(rs), harness.SpreadOf(ps)
}

func (p *printer) memory(r report) {
	p.Heading("Idle memory")
	if p.Markdown {
		p.Printf("After the rolling update and %s of idle: each process's VmRSS (`/proc/<pid>/status`), which counts every page it maps, shared ones included, and its Pss (`/proc/<pid>/smaps_rollup`), which splits shared pages between the processes that map them, so Pss adds up. "+
			"The components are the processes of `Cluster.Processes`; a Pod's processes are its containerd shim (`containerd-shim-runc-v2` serving the node's containerd socket) and what runs in its cgroup under `%s` (the sandbox's pause and the container's pause), divided evenly between the Pods.\n\n", r.o.settle, cgroupRoot)
	}
	label := harness.Plural(len(r.runs), "run")
	t := harness.Table{Header: []string{"process", "VmRSS, min of " + label, "VmRSS, median", "Pss, min of " + label, "Pss, median"}}
	for _, row := range r.memoryRows() {
		rss, pss := r.memorySpreads(row)
		t.Rows = append(t.Rows, []string{row.name, harness.FormatBytes(rss.Min), harness.FormatBytes(rss.Median), harness.FormatBytes(pss.Min), harness.FormatBytes(pss.Median)})
	}
	p.Table(t)
	p.Command(r.command())
}

func (p *printer) notes(r report) {
	if !p.Markdown {
		return
	}
	p.Printf("Notes:\n\n")
	p.Printf("- Start-up runs from the call of `localnode.Start` until it returns, which it does once the Node is Ready, kube-proxy and CoreDNS answer and the admin client is built. It includes preparing the host (the node's bridge, certificates, configuration) and building and importing the pause image (`go build` of `internal/localnode/pause`, from the build cache after the first time); it leaves out the wait for the machine-wide lock while another node ran (the longest wait was %s).\n",
		harness.FormatSeconds(slices.Max(r.lockWaits()).Seconds()))
	p.Printf("- Before the Deployment's clock starts, the benchmark waits for the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap of namespace `%s`, which the controller-manager creates after the start and a Pod's token volume needs. The Deployment is read every %s; it counts as Available as `kubectl rollout status` would: its generation observed, %d replicas updated and available, none of the old template left, condition Available true. The Pods have no readiness probe.\n",
		namespace, pollInterval, replicas)
	lo, hi := r.podCounts()
	p.Printf("- The memory scan found %s Pods and %s of their processes in each run. The Deployment's old Pods, terminating after the rolling update, are gone by then: pause exits on SIGTERM.\n", lo, hi)
	p.Printf("- Stop stops every component (SIGTERM, SIGKILL after 5 s), kills what runs in the Pods and puts the host back: iptables, links, sysctls, mounts, cgroups, directories.\n")
	p.Printf("- Everything runs on the same %d CPUs, which other work may share: the 1-minute load average was %s when the runs started.\n", r.machine.CPUs, r.load)
}

// lockWaits are each run's wait for the machine-wide lock.
func (r report) lockWaits() []time.Duration {
	waits := []time.Duration{0}
	for _, run := range r.runs {
		waits = append(waits, run.lockWait)
	}
	return waits
}

// podCounts renders the Pods and their processes the runs found, as "2"
// or "2-3".
func (r report) podCounts() (pods, procs string) {
	var ps, qs []int
	for _, run := range r.runs {
		ps, qs = append(ps, run.idle.pods.Pods), append(qs, run.idle.pods.Processes)
	}
	return countRange(ps), countRange(qs)
}

func countRange(values []int) string {
	if len(values) == 0 {
		return "0"
	}
	lo, hi := slices.Min(values), slices.Max(values)
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// headlines are the start-up and the idle total Pss, for the summary
// table.
func (r report) headlines() []harness.Headline {
	if len(r.runs) == 0 {
		return nil
	}
	start := r.spread(startUp.seconds)
	pss := r.spread(func(run runResult) float64 { return float64(run.idle.total().PSS) })
	return []harness.Headline{
		{Section: section, Figure: "real node start-up, to the Node Ready", Min: harness.FormatSeconds(start.Min), Median: harness.FormatSeconds(start.Median), Runs: len(r.runs)},
		{Section: section, Figure: "real node idle memory, total Pss", Min: harness.FormatBytes(pss.Min), Median: harness.FormatBytes(pss.Median), Runs: len(r.runs)},
	}
}
