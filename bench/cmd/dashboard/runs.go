package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// fleetReads is how many times a run reads /api/fleet to time it.
const fleetReads = 20

// runResult is what one dashboard process measured.
type runResult struct {
	// ready is from the process's start until /api/fleet showed every
	// cluster reachable with all its Stacks.
	ready time.Duration
	// fleetBytes is the size of /api/fleet's body; fleetRead the median
	// time of a read.
	fleetBytes int
	fleetRead  time.Duration
	// watches open on Flotilla's kinds: with no client, with the event
	// streams, with the streams and the browser.
	idle, withStreams, withBrowser watches
	// load is the browser's load of the page (zero without a browser).
	load load
	delays
	// cpu is the server's CPU time from its start to the end of the run,
	// changesCPU over the changes alone.
	cpu, changesCPU time.Duration
	// peakRSS is the server's VmHWM at the end of the run.
	peakRSS uint64
	// clusterEvents counts the cluster events the first stream received
	// during the changes; unreachableEvents those that marked their
	// cluster unreachable.
	clusterEvents, unreachableEvents int
}

// run starts the fleet, measures o.runs dashboard processes on it, then
// writes the report to stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctrl.SetLogger(logr.Discard())
	log := harness.NewProgress(stderr)
	rep := report{o: o, machine: harness.DescribeMachine(controlplane.ModuleRoot()), load: harness.LoadAverage()}
	tmp, err := os.MkdirTemp("", "flotilla-bench-dashboard-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	binary := filepath.Join(tmp, "flotilla")
	log.Printf("building flotilla")
	if err := harness.BuildFlotilla(ctx, controlplane.ModuleRoot(), binary); err != nil {
		return err
	}
	f, err := startFleet(ctx, o, log)
	if err != nil {
		return err
	}
	rep.started, rep.populated = f.started, f.populated
	if rep.machine.KubeVersion, err = harness.ServerVersion(f.shared.Clusters[0].Config); err != nil {
		return errors.Join(err, f.stop())
	}
	for r := range o.runs {
		log.Printf("run %d/%d: starting flotilla dashboard over %d contexts", r+1, o.runs, o.clusters)
		res, err := runOnce(ctx, o, f, binary, tmp, r, log)
		if err != nil {
			return errors.Join(fmt.Errorf("run %d: %w", r+1, err), f.stop())
		}
		rep.runs = append(rep.runs, res)
	}
	if err := f.stop(); err != nil {
		return err
	}
	rep.elapsed, rep.loadEnd = log.Elapsed(), harness.LoadAverage()
	return harness.Publish(harness.Report{Section: "Dashboard", Write: rep.write, Headlines: rep.headlines()}, stdout, o.headlines, o.update, log)
}

// runOnce starts a dashboard process and measures it: the start, the
// reads, the watches, the page's load and the changes.
func runOnce(ctx context.Context, o options, f *fleet, binary, dir string, r int, log *harness.Progress) (res runResult, err error) {
	s, err := startServer(ctx, binary, f.kubeconfig, dir, o.timeout)
	if err != nil {
		return res, err
	}
	defer s.stop()
	if res.ready, err = s.waitComplete(ctx, o.clusters, o.stacks, o.timeout); err != nil {
		return res, err
	}
	log.Printf("/api/fleet shows %d clusters of %d Stacks %s after the start", o.clusters, o.stacks, res.ready.Round(time.Millisecond))
	if res.fleetBytes, res.fleetRead, err = timeFleetReads(ctx, s); err != nil {
		return res, err
	}
	if res.idle, err = steadyWatches(ctx, f.shared.Clusters, o.timeout); err != nil {
		return res, err
	}
	obs, closeAll, err := connect(ctx, o, s, &res, f, log)
	defer closeAll()
	if err != nil {
		return res, err
	}
	_, events0, unreachable0 := obs.streams[0].counts()
	before, err := s.usage()
	if err != nil {
		return res, err
	}
	log.Printf("timing %d changes", o.changes)
	rng := rand.New(rand.NewPCG(o.seed, uint64(r)))
	if res.delays, err = timeChanges(ctx, f, obs, o.changes, rng, o.timeout); err != nil {
		return res, err
	}
	after, err := s.usage()
	if err != nil {
		return res, err
	}
	res.changesCPU, res.cpu, res.peakRSS = after.CPU-before.CPU, after.CPU, after.PeakRSS
	_, events, unreachable := obs.streams[0].counts()
	res.clusterEvents, res.unreachableEvents = events-events0, unreachable-unreachable0
	log.Printf("changes: stream p50 %s, page p50 %s; server CPU %s, peak RSS %d MiB",
		harness.Percentile(res.first, 50), harness.Percentile(res.page, 50), res.cpu, res.peakRSS>>20)
	return res, nil
}

// connect opens the event streams and the browser, counting the watches
// after each; closeAll closes what it opened.
func connect(ctx context.Context, o options, s *server, res *runResult, f *fleet, log *harness.Progress) (obs observers, closeAll func(), err error) {
	closeAll = func() {
		for _, st := range obs.streams {
			st.close()
		}
		if obs.browser != nil {
			obs.browser.close()
		}
	}
	for range o.streams {
		st, err := openStream(ctx, s.base)
		if err != nil {
			return obs, closeAll, err
		}
		obs.streams = append(obs.streams, st)
	}
	if res.withStreams, err = countWatches(ctx, f.shared.Clusters); err != nil {
		return obs, closeAll, err
	}
	log.Printf("watches on Flotilla's kinds: %d with no client (%s), %d with %d event streams", res.idle.total(), res.idle, res.withStreams.total(), o.streams)
	if o.chromium == "" {
		return obs, closeAll, nil
	}
	if obs.browser, err = openBrowser(ctx, o.chromium); err != nil {
		return obs, closeAll, err
	}
	if res.load, err = obs.browser.open(s.base, o.clusters*o.stacks, o.timeout); err != nil {
		return obs, closeAll, err
	}
	log.Printf("the page's matrix held %d cells %s after the navigation (data after %s)", o.clusters*o.stacks, res.load.full.Round(time.Millisecond), res.load.data.Round(time.Millisecond))
	res.withBrowser, err = countWatches(ctx, f.shared.Clusters)
	return obs, closeAll, err
}

// timeFleetReads reads /api/fleet fleetReads times, one after another:
// the body's size and the median time of a read.
func timeFleetReads(ctx context.Context, s *server) (int, time.Duration, error) {
	var size int
	times := make([]time.Duration, fleetReads)
	for k := range times {
		t0 := time.Now()
		_, n, err := s.fleet(ctx)
		if err != nil {
			return 0, 0, err
		}
		times[k], size = time.Since(t0), n
	}
	return size, harness.Percentile(times, 50), nil
}
