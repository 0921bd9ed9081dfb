package main

import (
	"context"
	"errors"
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

// runResult is what one run on a fresh fleet measured.
type runResult struct {
	clusters int
	// start is how long etcd, the kube-apiservers and the CRDs took.
	start time.Duration
	// initial is from creating the sync objects to every Stack Ready;
	// rollout from the push of a change to every Stack Ready at it.
	initial, rollout wave
	// initialCPU and rolloutCPU are the CPU time used over each wave.
	initialCPU, rolloutCPU cpu
	// peakRSS is each agent's peak resident memory (VmHWM) at the end.
	peakRSS []uint64
	// end is the fleet's processes after the rollout.
	end usage
}

// cpu is the CPU time the fleet used over a wave.
type cpu struct {
	agents, controlPlane time.Duration
}

// cpuBetween is the CPU time used from a to b.
func cpuBetween(a, b usage) cpu {
	return cpu{agents: b.agents.cpu - a.agents.cpu, controlPlane: b.controlPlaneCPU() - a.controlPlaneCPU()}
}

// run measures every fleet size o.runs times, then writes the report to
// stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctrl.SetLogger(logr.Discard())
	log := harness.NewProgress(stderr)
	rep := report{o: o, machine: harness.DescribeMachine(controlplane.ModuleRoot()), load: harness.LoadAverage()}
	tmp, err := os.MkdirTemp("", "flotilla-bench-fleet-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	binary := filepath.Join(tmp, agentBinary)
	log.Printf("building %s", agentBinary)
	if err := harness.BuildFlotilla(ctx, controlplane.ModuleRoot(), binary); err != nil {
		return err
	}
	for _, n := range o.clusters {
		for i := range o.runs {
			log.Printf("%d clusters, run %d/%d", n, i+1, o.runs)
			res, err := runOnce(ctx, o, n, binary, log, &rep.machine)
			if err != nil {
				return fmt.Errorf("%d clusters, run %d: %w", n, i+1, err)
			}
			rep.runs = append(rep.runs, res)
		}
	}
	rep.elapsed = log.Elapsed()
	return rep.publish(stdout, log)
}

// publish writes the report to stdout and, with -update, into the Fleet
// section of that file.
func (r report) publish(stdout io.Writer, log *harness.Progress) error {
	return harness.Publish(harness.Report{Section: "Fleet", Write: r.write, Headlines: r.headlines()}, stdout, r.o.headlines, r.o.update, log)
}

// runOnce starts a fleet of n clusters and measures both waves on it.
func runOnce(ctx context.Context, o options, n int, binary string, log *harness.Progress, m *harness.Machine) (res runResult, err error) {
	f, revision, err := startFleet(ctx, o, n, binary, log)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, f.stopAfter(ctx, err)) }()
	if m.KubeVersion == "" {
		if m.KubeVersion, err = harness.ServerVersion(f.shared.Clusters[0].Config); err != nil {
			return res, err
		}
	}
	res = runResult{clusters: n, start: f.started}
	u0, err := fleetUsage(agentBinary)
	if err != nil {
		return res, err
	}
	log.Printf("creating a GitRepository and a Stack on %d clusters", n)
	if res.initial, err = f.converge(ctx, time.Now(), revision, o.timeout, f.createSyncObjects); err != nil {
		return res, fmt.Errorf("initial convergence: %w", err)
	}
	u1, err := fleetUsage(agentBinary)
	if err != nil {
		return res, err
	}
	log.Printf("every cluster Ready at %s after %s", revision, res.initial.all().Round(time.Millisecond))
	if res.rollout, err = f.rollout(ctx, o.timeout, log); err != nil {
		return res, fmt.Errorf("commit rollout: %w", err)
	}
	if res.end, err = fleetUsage(agentBinary); err != nil {
		return res, err
	}
	res.initialCPU, res.rolloutCPU = cpuBetween(u0, u1), cpuBetween(u1, res.end)
	total := res.end.total()
	log.Printf("fleet memory: VmRSS %d MiB (etcd %d, kube-apiservers %d, agents %d), Pss %d MiB",
		total.rss>>20, res.end.etcd.rss>>20, res.end.apiservers.rss>>20, res.end.agents.rss>>20, total.pss>>20)
	res.peakRSS, err = f.agentPeaks()
	return res, err
}

// rollout pushes a change to the shared base, requests a reconcile of
// every GitRepository at once, and waits for every Stack at the new
// revision; the clock starts when the push has returned.
func (f *fleet) rollout(ctx context.Context, timeout time.Duration, log *harness.Progress) (wave, error) {
	revision, err := f.pushChange("v2")
	if err != nil {
		return wave{}, err
	}
	t0 := time.Now()
	log.Printf("pushed %s; requesting a reconcile of %d GitRepositories", revision, len(f.agents))
	w, err := f.converge(ctx, t0, revision, timeout, f.requestReconcile)
	if err == nil {
		log.Printf("every cluster Ready at %s after %s", revision, w.all().Round(time.Millisecond))
	}
	return w, err
}

// agentPeaks is each agent's peak resident memory.
func (f *fleet) agentPeaks() ([]uint64, error) {
	peaks := make([]uint64, len(f.agents))
	for i, a := range f.agents {
		u, err := a.Usage()
		if err != nil {
			return nil, fmt.Errorf("the agent of %s: %w", f.shared.Clusters[i].Name, err)
		}
		peaks[i] = u.PeakRSS
	}
	return peaks, nil
}
