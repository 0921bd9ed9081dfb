package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// runResult is what one run on a fresh node measured.
type runResult struct {
	// start is localnode.Start until it returned, the Node Ready, less lockWait:
	// the time Start waited for another node on this machine to stop.
	start, lockWait time.Duration
	// available is from creating the Deployment to it Available; rollout
	// from changing its Pod template to the new Pods Available and the old
	// ones gone.
	available, rollout time.Duration
	// idle is the memory once the node has idled.
	idle idleMemory
	// stop is how long Cluster.Stop took.
	stop time.Duration
}

// idleMemory is what the node's processes hold when it is idle.
type idleMemory struct {
	// components are the processes of Cluster.Processes, by name.
	components map[string]harness.Memory
	// pods are the processes that run the Pods.
	pods podProcesses
}

// total is every component and every Pod's processes.
func (m idleMemory) total() harness.Memory {
	t := m.pods.Memory
	for _, c := range m.components {
		t = t.Plus(c)
	}
	return t
}

// run measures o.runs fresh nodes, then writes the report to stdout (and
// -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctrl.SetLogger(logr.Discard())
	log := harness.NewProgress(stderr)
	rep := report{o: o, machine: harness.DescribeMachine(controlplane.ModuleRoot()), load: harness.LoadAverage()}
	for i := range o.runs {
		log.Printf("run %d/%d: starting a node (waiting for any other node on this machine to stop)", i+1, o.runs)
		res, err := runOnce(ctx, o, log, &rep.machine)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		rep.runs = append(rep.runs, res)
	}
	rep.elapsed = log.Elapsed()
	return harness.Publish(harness.Report{Section: section, Write: rep.write, Headlines: rep.headlines()}, stdout, o.headlines, o.update, log)
}

// runOnce starts a node, measures it, and stops it.
func runOnce(ctx context.Context, o options, log *harness.Progress, m *harness.Machine) (res runResult, err error) {
	t0 := time.Now()
	c, err := localnode.Start(ctx, localnode.Options{})
	if err != nil {
		return res, err
	}
	res.lockWait = c.LockWait
	res.start = time.Since(t0) - c.LockWait
	stopped := false
	defer func() {
		if !stopped {
			err = errors.Join(err, c.Stop())
		}
	}()
	log.Printf("node Ready %s after the lock (waited %s for it)", res.start.Round(time.Millisecond), res.lockWait.Round(time.Second))
	if m.KubeVersion == "" {
		if m.KubeVersion, err = harness.ServerVersion(c.Config); err != nil {
			return res, err
		}
	}
	if res.available, res.rollout, err = measureDeployment(ctx, c.Client, o.timeout, log); err != nil {
		return res, err
	}
	log.Printf("idling %s", o.settle)
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(o.settle):
	}
	if res.idle, err = readIdle(c.Processes()); err != nil {
		return res, fmt.Errorf("reading the node's memory: %w", err)
	}
	total := res.idle.total()
	log.Printf("idle memory: VmRSS %d MiB, Pss %d MiB (%d Pods, %d of their processes)", total.RSS>>20, total.PSS>>20, res.idle.pods.Pods, res.idle.pods.Processes)
	t1 := time.Now()
	stopped = true
	if err := c.Stop(); err != nil {
		return res, fmt.Errorf("stopping the node: %w", err)
	}
	res.stop = time.Since(t1)
	log.Printf("node stopped in %s", res.stop.Round(time.Millisecond))
	return res, nil
}

// readIdle reads the memory of the components (name to pid) and of the
// processes that run the Pods.
func readIdle(components map[string]int) (idleMemory, error) {
	idle := idleMemory{components: map[string]harness.Memory{}}
	skip := map[int]bool{}
	for name, pid := range components {
		mem, err := harness.ProcMemory(pid)
		if err != nil {
			return idle, fmt.Errorf("%s (pid %d): %w", name, pid, err)
		}
		idle.components[name] = mem
		skip[pid] = true
	}
	pid, ok := components["containerd"]
	if !ok {
		return idle, errors.New("containerd is not running")
	}
	socket, err := containerdSocket(pid)
	if err != nil {
		return idle, err
	}
	idle.pods, err = readPodProcesses(socket, skip)
	return idle, err
}
