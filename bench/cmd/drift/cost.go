package main

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// phase is one row of the reconcile cost table.
type phase int

const (
	phaseFirst  phase = iota // the first apply: every object created
	phaseNoop                // interval reconciles with nothing to do
	phaseForced              // interval reconciles forced to re-apply everything
	phaseIdle                // one interval with no reconcile at all
)

// phases in table order.
var phases = []phase{phaseFirst, phaseNoop, phaseForced, phaseIdle}

func (p phase) String() string {
	return [...]string{
		phaseFirst:  "first apply (created)",
		phaseNoop:   "no-op (steady state)",
		phaseForced: "forced re-apply (SafetyInterval 1ns)",
		phaseIdle:   "idle baseline, one interval",
	}[p]
}

// quietAfterReconcile is how long the controllers must send nothing after
// a reconcile before a window closes: its status patch and events are out.
const quietAfterReconcile = 200 * time.Millisecond

// measureCost creates a Stack of o.objects objects and measures its first
// apply, o.reconciles no-op interval reconciles, then, with the agent
// restarted with a safety interval of 1ns, o.reconciles forced re-applies.
// *a is replaced by the restarted agent.
func measureCost(ctx context.Context, c *cluster, a **agentProcess, o options, log *harness.Progress) (map[phase]harness.Cost, error) {
	const ns, name = "bench-scale", "scale"
	if err := c.createNamespace(ctx, ns); err != nil {
		return nil, err
	}
	rev, err := c.publish(ctx, ns, name, harness.Fleet(name, ns, o.namespaces, o.objects))
	if err != nil {
		return nil, err
	}
	costs := map[phase]harness.Cost{}
	log.Printf("reconcile cost: idle baseline (%s)", o.interval)
	if costs[phaseIdle], err = measureIdle(ctx, c, o.interval); err != nil {
		return nil, err
	}

	log.Printf("reconcile cost: first apply of %d objects", o.objects)
	before, err := c.probe()
	if err != nil {
		return nil, err
	}
	key, err := c.createStack(ctx, ns, name, o.interval, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	if err := c.waitStackReady(ctx, key, rev, 15*time.Minute); err != nil {
		return nil, err
	}
	if err := c.waitQuiet(ctx, quietAfterReconcile); err != nil {
		return nil, err
	}
	after, err := c.probe()
	if err != nil {
		return nil, err
	}
	costs[phaseFirst] = after.Since(before).PerReconcile()

	log.Printf("reconcile cost: %d no-op reconciles, interval %s", o.reconciles, o.interval)
	if costs[phaseNoop], err = measureIntervals(ctx, c, o); err != nil {
		return nil, err
	}

	log.Printf("reconcile cost: restarting the agent with SafetyInterval 1ns; %d forced re-applies", o.reconciles)
	if err := (*a).stop(); err != nil {
		return nil, fmt.Errorf("stopping the agent: %w", err)
	}
	if *a, err = c.startAgent(time.Nanosecond); err != nil {
		return nil, err
	}
	if costs[phaseForced], err = measureIntervals(ctx, c, o); err != nil {
		return nil, err
	}
	return costs, nil
}

// measureIdle measures one interval with the controllers running and no
// reconcile due: the floor under every window's CPU.
func measureIdle(ctx context.Context, c *cluster, interval time.Duration) (harness.Cost, error) {
	if err := c.waitQuiet(ctx, quietAfterReconcile); err != nil {
		return harness.Cost{}, err
	}
	before, err := c.probe()
	if err != nil {
		return harness.Cost{}, err
	}
	select {
	case <-time.After(interval):
	case <-ctx.Done():
		return harness.Cost{}, ctx.Err()
	}
	after, err := c.probe()
	if err != nil {
		return harness.Cost{}, err
	}
	w := after.Since(before)
	if w.Reconciles != 0 {
		return harness.Cost{}, fmt.Errorf("%v Stack reconciles ran during the idle baseline", w.Reconciles)
	}
	return w.PerReconcile(), nil
}

// measureIntervals lets one interval reconcile pass (a warm-up: after a
// restart it is the re-apply every restart makes), then measures the next
// o.reconciles. Each window runs from the end of one reconcile to the end
// of the next, so the windows cover the whole time, idle included.
func measureIntervals(ctx context.Context, c *cluster, o options) (harness.Cost, error) {
	wait := 2*o.interval + 10*time.Minute // a forced re-apply of many objects is slow
	// next waits for the reconcile after prev and for the quiet after it.
	next := func(prev harness.Probe) (harness.Probe, error) {
		if err := c.waitReconciles(ctx, prev.Reconciles+1, wait); err != nil {
			return prev, err
		}
		if err := c.waitQuiet(ctx, quietAfterReconcile); err != nil {
			return prev, err
		}
		return c.probe()
	}
	now, err := c.probe()
	if err != nil {
		return harness.Cost{}, err
	}
	start, err := next(now)
	if err != nil {
		return harness.Cost{}, err
	}
	var total harness.Window
	for range o.reconciles {
		end, err := next(start)
		if err != nil {
			return harness.Cost{}, err
		}
		total = total.Add(end.Since(start))
		start = end
	}
	return total.PerReconcile(), nil
}
