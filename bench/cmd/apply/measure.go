package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
)

// Prefixes of the object names of both sides; different prefixes make
// different Namespaces, so the floor's objects are new objects too.
const (
	stackPrefix = "bench"
	floorPrefix = "floor"
	gitValue    = "v1"
)

// noopKind is one row of the no-op table.
type noopKind int

const (
	noopSteady noopKind = iota // an interval reconcile, which skips the apply
	noopForced                 // a reconcile request, which re-applies everything
)

var noopKinds = []noopKind{noopSteady, noopForced}

func (k noopKind) String() string {
	return [...]string{
		noopSteady: "steady state (interval reconcile)",
		noopForced: "full re-apply (reconcile request)",
	}[k]
}

// sizeResult is what one run measured at one size.
type sizeResult struct {
	floorFirst bool
	// flotilla is Stack creation to Ready; floor the floor's apply.
	flotilla, floor time.Duration
	// peakRSS and cpuTotal are the agent's after the initial apply;
	// cpuApply its CPU from Stack creation to Ready.
	peakRSS            uint64
	cpuTotal, cpuApply time.Duration
	// noop is nil when not measured at this size.
	noop map[noopKind]cost
	// pruned objects, and the time from the push to their removal;
	// pruneFloor the floor's bare deletes of as many objects.
	pruned            int
	prune, pruneFloor time.Duration
}

// runOnce measures every figure at n objects on a fresh control plane. Run
// index i decides the order of Flotilla and the floor.
func runOnce(ctx context.Context, o options, bin string, i, n int, log *harness.Progress, m *harness.Machine) (res sizeResult, err error) {
	c, err := startCluster(o, bin)
	if err != nil {
		return res, err
	}
	defer func() {
		keep := err != nil && ctx.Err() == nil // a failure, not an interrupt
		err = errors.Join(err, c.stop(keep))
		if keep {
			err = fmt.Errorf("%w\n(the agents' logs and data are kept in %s)", err, c.dir)
		}
	}()
	c.objects, c.run = n, i
	if m.KubeVersion == "" {
		if m.KubeVersion, err = harness.ServerVersion(c.env.Config); err != nil {
			return res, err
		}
	}
	files := harness.Mixed(stackPath, stackPrefix, n, gitValue)
	rev, err := c.commit(files, nil, fmt.Sprintf("%d objects", n))
	if err != nil {
		return res, err
	}
	if err := c.startAgent(ctx); err != nil {
		return res, err
	}
	if err := c.createSource(ctx, rev); err != nil {
		return res, err
	}
	res.floorFirst = floorFirst(i)
	if err := measureApplies(ctx, c, o, n, rev, &res, log); err != nil {
		return res, err
	}
	if o.wantsNoop(n) {
		if res.noop, err = measureNoop(ctx, c, rev, log); err != nil {
			return res, fmt.Errorf("no-op reconciles: %w", err)
		}
	}
	if err := measurePrunes(ctx, c, n, files, &res, log); err != nil {
		return res, fmt.Errorf("prune: %w", err)
	}
	return res, nil
}

// floorFirst reports whether the floor goes first in run index i: on odd
// runs (the first, the third).
func floorFirst(i int) bool { return i%2 == 0 }

// measureApplies measures the floor and Flotilla's initial apply, in the
// order of res.floorFirst.
func measureApplies(ctx context.Context, c *cluster, o options, n int, rev string, res *sizeResult, log *harness.Progress) error {
	floor := func() error {
		log.Printf("floor: server-side apply of %d objects", n)
		d, err := runFloor(ctx, c.env.Config, o, harness.Mixed(floorPrefix, floorPrefix, n, gitValue))
		res.floor = d
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		log.Printf("floor: %s", d.Round(time.Millisecond))
		return nil
	}
	if res.floorFirst {
		if err := floor(); err != nil {
			return err
		}
	}
	if err := measureInitial(ctx, c, n, rev, res, log); err != nil {
		return fmt.Errorf("initial apply: %w", err)
	}
	if !res.floorFirst {
		return floor()
	}
	return nil
}

// measureInitial times a Stack from its creation until it is Ready at rev
// and reads the agent's usage.
func measureInitial(ctx context.Context, c *cluster, n int, rev string, res *sizeResult, log *harness.Progress) error {
	log.Printf("flotilla: Stack of %d objects", n)
	before, err := c.agent.Usage()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.profiled(ctx, "initial", func() error {
		if err := c.createStack(ctx); err != nil {
			return err
		}
		return c.waitStack(ctx, rev, "")
	}); err != nil {
		return err
	}
	res.flotilla = time.Since(start)
	after, err := c.agent.Usage()
	if err != nil {
		return err
	}
	res.peakRSS, res.cpuTotal, res.cpuApply = after.PeakRSS, after.CPU, after.CPU-before.CPU
	log.Printf("flotilla: Ready in %s, agent CPU %s (apply %s), peak RSS %d MiB",
		res.flotilla.Round(time.Millisecond), res.cpuTotal, res.cpuApply, res.peakRSS>>20)
	return nil
}

// quietBefore is how long the agent must send nothing before a no-op
// window opens.
const quietBefore = time.Second

// steadyInterval is the Stack's interval while the steady-state reconcile
// is measured: short enough to wait for, long enough for a quiet second
// before it.
const steadyInterval = 5 * time.Second

// measureNoop measures an interval reconcile that finds nothing to do,
// then a reconcile request, which re-applies every object (and writes
// none, as nothing changed).
func measureNoop(ctx context.Context, c *cluster, rev string, log *harness.Progress) (map[noopKind]cost, error) {
	out := map[noopKind]cost{}
	log.Printf("no-op: steady-state interval reconcile")
	var err error
	if out[noopSteady], err = intervalReconcile(ctx, c, rev); err != nil {
		return nil, err
	}
	log.Printf("no-op: full re-apply on a reconcile request")
	if out[noopForced], err = requestedReconcile(ctx, c, rev); err != nil {
		return nil, err
	}
	return out, nil
}

// intervalReconcile sets the Stack's interval to steadyInterval (a spec
// change, so the reconcile it causes applies: not measured), measures the
// next reconcile, the interval's, and sets the interval back.
func intervalReconcile(ctx context.Context, c *cluster, rev string) (cost, error) {
	if err := c.setInterval(ctx, steadyInterval); err != nil {
		return cost{}, err
	}
	w, err := c.measureReconcile(ctx, rev, func(before probe) error {
		if err := c.waitReconciles(ctx, before.reconciles+1); err != nil {
			return err
		}
		// The status patch follows the reconcile count: let it land.
		return c.waitQuiet(ctx, quietBefore)
	})
	if err == nil && w.reconciles != 1 {
		err = fmt.Errorf("measuring one interval reconcile, the agent counted %v", w.reconciles)
	}
	if err != nil {
		return cost{}, err
	}
	return w, c.setInterval(ctx, stackInterval)
}

// requestedReconcile requests a reconcile of the Stack and measures it
// until it is handled.
func requestedReconcile(ctx context.Context, c *cluster, rev string) (cost, error) {
	w, err := c.measureReconcile(ctx, rev, func(probe) error {
		stack := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: stackKey.Namespace, Name: stackKey.Name}}
		at, err := c.requestReconcile(ctx, stack)
		if err != nil {
			return err
		}
		// The reconcile count moves before the status patch that shows the
		// request handled: both are in once the status is.
		return c.waitStack(ctx, rev, at)
	})
	if err == nil && w.reconciles < 1 {
		err = fmt.Errorf("the request was handled but the agent counted %v reconciles", w.reconciles)
	}
	return w, err
}

// measureReconcile waits for the Stack Ready at rev and a quiet agent,
// then returns the agent's cost from then until run returns.
func (c *cluster) measureReconcile(ctx context.Context, rev string, run func(before probe) error) (cost, error) {
	if err := c.waitStack(ctx, rev, ""); err != nil {
		return cost{}, err
	}
	if err := c.waitQuiet(ctx, quietBefore); err != nil {
		return cost{}, err
	}
	before, err := c.probe()
	if err != nil {
		return cost{}, err
	}
	if err := run(before); err != nil {
		return cost{}, err
	}
	after, err := c.probe()
	if err != nil {
		return cost{}, err
	}
	return after.since(before), nil
}
