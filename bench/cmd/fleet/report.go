package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/controller"
)

// report is every run's results and how they were obtained.
type report struct {
	o       options
	machine harness.Machine
	runs    []runResult
	load    string // 1-minute load average when the runs started
	elapsed time.Duration
}

// row is one line of a fleet size's table: a name and how to read the
// figure off a run, and how to print it.
type row struct {
	name   string
	of     func(runResult) float64
	format func(float64) string
}

// rows are the lines of each fleet size's table.
var rows = []row{
	{"initial convergence, every cluster Ready", func(r runResult) float64 { return r.initial.all().Seconds() }, harness.FormatSeconds},
	{"initial convergence, fastest cluster", func(r runResult) float64 { return r.initial.fastest().Seconds() }, harness.FormatSeconds},
	{"commit rollout, every cluster Ready", func(r runResult) float64 { return r.rollout.all().Seconds() }, harness.FormatSeconds},
	{"commit rollout, fastest cluster", func(r runResult) float64 { return r.rollout.fastest().Seconds() }, harness.FormatSeconds},
	{"agents' CPU, initial convergence (sum)", func(r runResult) float64 { return r.initialCPU.agents.Seconds() }, harness.FormatSeconds},
	{"agents' CPU, commit rollout (sum)", func(r runResult) float64 { return r.rolloutCPU.agents.Seconds() }, harness.FormatSeconds},
	{"control plane CPU, initial convergence", func(r runResult) float64 { return r.initialCPU.controlPlane.Seconds() }, harness.FormatSeconds},
	{"control plane CPU, commit rollout", func(r runResult) float64 { return r.rolloutCPU.controlPlane.Seconds() }, harness.FormatSeconds},
	{"agents' peak RSS (sum)", func(r runResult) float64 { return float64(sum(r.peakRSS)) }, harness.FormatBytes},
	{"agents' peak RSS (largest agent)", func(r runResult) float64 { return float64(slices.Max(r.peakRSS)) }, harness.FormatBytes},
	{"fleet VmRSS: etcd", func(r runResult) float64 { return float64(r.end.etcd.rss) }, harness.FormatBytes},
	{"fleet VmRSS: kube-apiservers (sum)", func(r runResult) float64 { return float64(r.end.apiservers.rss) }, harness.FormatBytes},
	{"fleet VmRSS: agents (sum)", func(r runResult) float64 { return float64(r.end.agents.rss) }, harness.FormatBytes},
	{"fleet VmRSS: total", func(r runResult) float64 { return float64(r.end.total().rss) }, harness.FormatBytes},
	{"fleet VmRSS: per cluster", func(r runResult) float64 { return float64(perCluster(r.end.total().rss, r.clusters)) }, harness.FormatBytes},
	{"fleet Pss: total", func(r runResult) float64 { return float64(r.end.total().pss) }, harness.FormatBytes},
	{"fleet Pss: per cluster", func(r runResult) float64 { return float64(perCluster(r.end.total().pss, r.clusters)) }, harness.FormatBytes},
	{"start of etcd, the kube-apiservers and the CRDs", func(r runResult) float64 { return r.start.Seconds() }, harness.FormatSeconds},
}

func (r report) write(w io.Writer) error {
	p := &printer{harness.Printer{W: w, Markdown: r.o.output == "markdown"}}
	p.intro(r)
	for _, n := range r.o.clusters {
		p.size(r, n)
	}
	p.notes(r)
	return p.Err
}

// printer writes the report.
type printer struct{ harness.Printer }

func (p *printer) intro(r report) {
	if !p.Markdown {
		p.Printf("Fleet benchmark: %s\n%s per fleet size in %s; cells are min / median over runs (one number when equal)\n\n",
			r.machine, harness.Plural(r.o.runs, "run"), r.elapsed.Round(time.Second))
		return
	}
	p.Printf("Measured on %s at commit `%s` on %s, control plane from `hack/testenv.sh`, in %s. ",
		r.machine.Date, r.machine.Commit, r.machine, r.elapsed.Round(time.Second))
	p.Printf("Whole section: `make bench-fleet`. Each cell is the minimum / median over %s, each on a fresh fleet (one number when they are equal).\n\n", harness.Plural(r.o.runs, "run"))
	p.Printf("A fleet of M clusters, each a kube-apiserver of its own with its own `flotilla agent` process, converges from one Git repository served by `git http-backend` over smart HTTP. "+
		"The repository holds a shared base of %d objects (Namespaces, a Widget CRD, then ConfigMaps, Secrets, headless Services, Deployments, ServiceAccounts, Roles, RoleBindings and Widgets in turn, one file each) "+
		"and, per cluster, `clusters/<name>/`: a kustomization that renders the base with a label of its own on every object and adds a ConfigMap, so every cluster applies its own %d objects. "+
		"Each cluster has a GitRepository and a Stack for its path.\n\n", r.o.objects, r.o.objects+1)
	p.Printf("- **initial convergence**: the agents already run; from creating the GitRepository and the Stack on every cluster at once until the Stack of every cluster is Ready at the commit, status written for its generation.\n")
	p.Printf("- **commit rollout**: a commit changes the shared base (%d of the %d objects change on every cluster); from the return of `git push`, the reconcile-request annotation is set on every GitRepository at once, as a webhook receiver would, until every Stack is Ready at the new commit.\n",
		changedObjects(r.o.objects), r.o.objects+1)
	p.Printf("- **fastest cluster**: the first cluster Ready; \"every cluster Ready\" is the slowest.\n")
	p.Printf("- **CPU**: `utime + stime` over the wave, summed over the agent processes, and over etcd and the kube-apiservers (the control plane). **Peak RSS**: each agent's VmHWM at the end of the run.\n")
	p.Printf("- **Fleet VmRSS**: the resident memory of etcd, the kube-apiservers and the agents after the rollout, summed; each process counts the pages it shares with the others (the binaries' text), so the sum overstates what the fleet takes. **Fleet Pss** splits the shared pages between the processes that map them (`/proc/<pid>/smaps_rollup`): the memory the fleet takes. Per cluster is the total over M, etcd included.\n\n")
}

// runsOf are the runs of the fleet of n clusters.
func (r report) runsOf(n int) []runResult {
	var runs []runResult
	for _, run := range r.runs {
		if run.clusters == n {
			runs = append(runs, run)
		}
	}
	return runs
}

func (p *printer) size(r report, n int) {
	runs := r.runsOf(n)
	if len(runs) == 0 {
		return
	}
	p.Heading(harness.Plural(n, "cluster"))
	label := harness.Plural(len(runs), "run")
	t := harness.Table{Header: []string{"figure", "min of " + label, "median of " + label}}
	for _, row := range rows {
		var values []float64
		for _, run := range runs {
			values = append(values, row.of(run))
		}
		sp := harness.SpreadOf(values)
		t.Rows = append(t.Rows, []string{row.name, row.format(sp.Min), row.format(sp.Median)})
	}
	p.Table(t)
	p.Command(fmt.Sprintf("go run ./bench/cmd/fleet -clusters %d -objects %d -runs %d", n, r.o.objects, r.o.runs))
}

func (p *printer) notes(r report) {
	if !p.Markdown {
		return
	}
	d := agent.DefaultOptions()
	p.Printf("Notes:\n\n")
	p.Printf("- One etcd (from `hack/testenv.sh`) holds every cluster: each kube-apiserver runs with envtest's flags, as `make test` does, plus `--etcd-prefix /cluster-NN`, so the clusters share no object, CRD or namespace, only the etcd process (test/controlplane.StartShared). The kube-apiservers start %d at a time; Flotilla's CRDs are installed in each before its agent starts. There is no controller-manager, so Deployments never become available: the Stacks set neither `wait` nor health checks.\n", r.o.parallel)
	p.Printf("- Each agent is `flotilla agent --kube-api-qps %s --kube-api-burst %s` (the default is QPS %.0f, burst %d), out of cluster with the cluster's kubeconfig; the rest is default: concurrency %d, drift safety interval %s, and the apply engine's concurrency %d.\n",
		agentQPS, agentBurst, d.KubeAPIQPS, d.KubeAPIBurst, d.Concurrency, controller.DefaultSafetyInterval, d.Apply.Concurrency)
	p.Printf("- GitRepository interval %s, Stack interval %s, `prune: true`. All the agents fetch from the one Git server at once.\n", repoInterval, stackInterval)
	p.Printf("- Before the clock starts, each cluster creates its GitRepository and Stack in a server-side dry-run: kube-apiserver delays every create of a custom resource by 2 s while its CRD has been Established for less than 2 s (apiextensions-apiserver, customresource_handler.go), a wait that belongs to installing the CRDs, not to the convergence.\n")
	p.Printf("- No kube-apiserver or agent starts while MemAvailable is under %d MiB (`-min-available`): a fleet that does not fit fails with the number of clusters it reached instead of meeting the OOM killer.\n", r.o.minAvailable)
	p.Printf("- Everything runs on the same %d CPUs: etcd, the kube-apiservers, the agents, `git http-backend` and the benchmark, which watches each cluster's Stack. The 1-minute load average was %s when the runs started.\n", r.machine.CPUs, r.load)
	for _, n := range r.o.clusters {
		if b, ok := r.busy(n); ok {
			p.Printf("- %s, median run: the agents and the control plane used %s of CPU time during the initial convergence, %s during the rollout: %.0f%% and %.0f%% of the %d CPUs over those waves. The agents' share per cluster was %s and %s.\n",
				harness.Plural(n, "cluster"), harness.FormatSeconds(b.initialCPU), harness.FormatSeconds(b.rolloutCPU), b.initialBusy*100, b.rolloutBusy*100, r.machine.CPUs,
				harness.FormatSeconds(b.agentInitial/float64(n)), harness.FormatSeconds(b.agentRollout/float64(n)))
		}
	}
}

// busyness is how much of the machine's CPUs the fleet used in a wave.
type busyness struct {
	initialCPU, rolloutCPU     float64 // seconds, agents and control plane
	agentInitial, agentRollout float64 // seconds, agents only
	initialBusy, rolloutBusy   float64 // of CPUs x wall time
}

// busy is the busyness of the median run (by initial convergence) of the
// fleet of n clusters.
func (r report) busy(n int) (busyness, bool) {
	runs := r.runsOf(n)
	if len(runs) == 0 || r.machine.CPUs < 1 {
		return busyness{}, false
	}
	slices.SortFunc(runs, func(a, b runResult) int { return cmp.Compare(a.initial.all(), b.initial.all()) })
	m := runs[(len(runs)-1)/2]
	cpus := float64(r.machine.CPUs)
	b := busyness{
		initialCPU:   (m.initialCPU.agents + m.initialCPU.controlPlane).Seconds(),
		rolloutCPU:   (m.rolloutCPU.agents + m.rolloutCPU.controlPlane).Seconds(),
		agentInitial: m.initialCPU.agents.Seconds(),
		agentRollout: m.rolloutCPU.agents.Seconds(),
	}
	b.initialBusy = b.initialCPU / (cpus * m.initial.all().Seconds())
	b.rolloutBusy = b.rolloutCPU / (cpus * m.rollout.all().Seconds())
	return b, true
}

// changedObjects is how many objects of a base of n a new shared value
// changes: its ConfigMaps, Secrets, Deployments and Widgets.
func changedObjects(n int) int {
	changed := 0
	for i := range n - max(1, n/100) - 1 {
		switch harness.MixedKinds[i%len(harness.MixedKinds)] {
		case "ConfigMap", "Secret", "Deployment", "Widget":
			changed++
		}
	}
	return changed
}

func sum(values []uint64) uint64 {
	var s uint64
	for _, v := range values {
		s += v
	}
	return s
}

// headlines are the convergence times of every fleet size, for the
// summary table.
func (r report) headlines() []harness.Headline {
	var out []harness.Headline
	for _, n := range r.o.clusters {
		runs := r.runsOf(n)
		if len(runs) == 0 {
			continue
		}
		for _, row := range []row{rows[0], rows[2]} { // every cluster Ready: initial, rollout
			var values []float64
			for _, run := range runs {
				values = append(values, row.of(run))
			}
			sp := harness.SpreadOf(values)
			out = append(out, harness.Headline{Section: "Fleet", Figure: fmt.Sprintf("%s, %s", harness.Plural(n, "cluster"), row.name),
				Min: row.format(sp.Min), Median: row.format(sp.Median), Runs: len(runs)})
		}
	}
	return out
}
