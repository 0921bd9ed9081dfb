package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// results are every run of both sides.
type results struct {
	o          options
	fixture    fixture
	plans      []planResult
	kustomize  []time.Duration
	kustomizeN int
	machine    string
	load       string // /proc/loadavg when the runs started
	commit     string
	elapsed    time.Duration
}

// run measures, then writes the report to stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	log := harness.NewProgress(stderr)
	kustomize, err := findKustomize(o.kustomize, log)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "flotilla-bench-plan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log.Printf("generating a fleet of %d clusters x %d objects", o.clusters, o.objects)
	f, err := makeFixture(tmp, o)
	if err != nil {
		return err
	}
	r := results{o: o, fixture: f, machine: describeMachine(), commit: commit(), load: harness.LoadAverage()}
	for i := range o.runs {
		p, err := profiledPlan(ctx, f, tmp, profilePath(o.profile, i))
		if err != nil {
			return fmt.Errorf("run %d: flotilla plan: %w", i+1, err)
		}
		log.Printf("run %d/%d: flotilla plan %s (%d of %d clusters changed)", i+1, o.runs, p.wall.Round(time.Millisecond), p.changed, p.total)
		d, n, err := timeKustomize(ctx, kustomize, f, o.clusters)
		if err != nil {
			return fmt.Errorf("run %d: kustomize: %w", i+1, err)
		}
		log.Printf("run %d/%d: kustomize build x %d: %s", i+1, o.runs, n, d.Round(time.Millisecond))
		r.plans, r.kustomize, r.kustomizeN = append(r.plans, p), append(r.kustomize, d), n
	}
	r.elapsed = log.Elapsed()
	return harness.Publish(harness.Report{Section: "Plan", Write: r.write, Headlines: r.headlines()}, stdout, o.headlines, o.update, log)
}

func describeMachine() string {
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	return fmt.Sprintf("%d CPUs (%s), %.0f GiB RAM, Linux %s, %s", runtime.NumCPU(), harness.CPUModel(read("/proc/cpuinfo")),
		float64(harness.MemTotalBytes(read("/proc/meminfo")))/(1<<30), strings.TrimSpace(read("/proc/sys/kernel/osrelease")), runtime.Version())
}

func commit() string {
	out, err := exec.Command("git", "-C", controlplane.ModuleRoot(), "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func seconds(v float64) string { return fmt.Sprintf("%.2f s", v) }

// write prints the report as text or markdown.
func (r results) write(w io.Writer) error {
	md := r.o.output == "markdown"
	var planS, kustS []float64
	for i := range r.plans {
		planS = append(planS, r.plans[i].wall.Seconds())
		kustS = append(kustS, r.kustomize[i].Seconds())
	}
	ps, ks := harness.SpreadOf(planS), harness.SpreadOf(kustS)
	p := r.plans[0]
	t := harness.Table{
		Header: []string{"what", fmt.Sprintf("min of %d runs", len(planS)), fmt.Sprintf("median of %d runs", len(planS))},
		Rows: [][]string{
			{fmt.Sprintf("flotilla plan (%d renders, %d reused, %d substituted)", p.builds, p.reused, p.substituted), seconds(ps.Min), seconds(ps.Median)},
			{fmt.Sprintf("kustomize build x %d, one after another", r.kustomizeN), seconds(ks.Min), seconds(ks.Median)},
			{"ratio (kustomize / plan)", fmt.Sprintf("%.1fx", ks.Min/ps.Min), fmt.Sprintf("%.1fx", ks.Median/ps.Median)},
		},
	}
	fmt.Fprintf(w, "Measured on %s at commit `%s` on %s, kustomize %s, in %s. Whole section: `make bench-plan`; it needs no control plane, only git and the kustomize CLI (installed if missing). Each cell is the minimum / median over the runs; both sides run in turn, on the same machine.\n\n", time.Now().UTC().Format("2006-01-02"), r.commit, r.machine, kustomizeVersion, r.elapsed.Round(time.Second))
	fmt.Fprintf(w, "A generated fleet (internal/fleet/fleettest) of %d clusters, each rendering about %d objects (%d files in the repository): a shared infrastructure base with per-cluster variables, an application base and one overlay per cluster, two Stacks per cluster. The change edits one ConfigMap of the shared base, so every cluster changes (%d of %d in the plan).\n\n",
		r.o.clusters, r.o.objects, r.fixture.files, p.changed, p.total)
	fmt.Fprintf(w, "- **flotilla plan**: `--base HEAD~1 --head HEAD`, in process: read both revisions from Git, discover every cluster's Stacks, render and compare every Stack at both revisions, warnings included.\n")
	fmt.Fprintf(w, "- **kustomize build**: the kustomize CLI (%s, the release on the same kustomize/api as Flotilla) run for each path a cluster renders (its root and its two Stacks), on checkouts of both revisions made beforehand (not timed), output discarded: no substitution and no comparison.\n\n", kustomizeVersion)
	var err error
	if md {
		err = t.WriteMarkdown(w)
	} else {
		err = t.WriteText(w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nReproduce: `go run ./bench/cmd/plan -clusters %d -objects %d -runs %d`\n", r.o.clusters, r.o.objects, r.o.runs)
	fmt.Fprintf(w, "\nNotes:\n\n")
	fmt.Fprintf(w, "- plan renders each distinct input once: a Stack whose files and options are the same at both revisions is not rendered at all (here the %d application overlays), and a cluster root that did not change renders once (%d renders, %d reused at the head).\n", r.o.clusters, r.o.clusters, r.o.clusters)
	fmt.Fprintf(w, "- The shared base is rendered once per revision, with a placeholder for each variable, and each cluster's objects are that render with its values put in (\"substituted\"): internal/render runs kustomize before substitution, so the build does not depend on the values. Where a value could render differently than as text (a plain scalar YAML would type as a number, boolean or null, keys or objects made equal, a value that is not UTF-8), that cluster's Stack is rendered on its own; tests compare both ways object by object (internal/fleet FuzzSharedRender, TestSharedRendersLikeItsOwn) and whole plans with and without every shortcut.\n")
	fmt.Fprintf(w, "- Renders run side by side, one kustomize build per CPU (internal/render's gate); clusters are planned in parallel.\n")
	fmt.Fprintf(w, "- The 1-minute load average was %s when the runs started: the machine may have been running other work, which shows in the spread between min and median.\n", r.load)
	return nil
}

// headlines are the figures of the summary table.
func (r results) headlines() []harness.Headline {
	var planS, ratios []float64
	for i := range r.plans {
		planS = append(planS, r.plans[i].wall.Seconds())
		ratios = append(ratios, r.kustomize[i].Seconds()/r.plans[i].wall.Seconds())
	}
	ps, rs := harness.SpreadOf(planS), harness.SpreadOf(ratios)
	ratio := func(v float64) string { return fmt.Sprintf("%.1fx", v) }
	return []harness.Headline{
		{Section: "Plan", Figure: fmt.Sprintf("plan of a shared-base change, %d clusters x %d objects", r.o.clusters, r.o.objects), Min: seconds(ps.Min), Median: seconds(ps.Median), Runs: len(planS)},
		{Section: "Plan", Figure: "plan speed-up over kustomize build (per-run ratio)", Min: ratio(rs.Min), Median: ratio(rs.Median), Runs: len(ratios)},
	}
}
