package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// runResult is what one run measured.
type runResult struct {
	// revert are the revert latencies, one per edit.
	revert []time.Duration
	// cost is the per-reconcile cost by phase.
	cost map[phase]harness.Cost
}

// runOnce measures every figure wanted on a fresh control plane.
func runOnce(ctx context.Context, o options, log *harness.Progress, m *harness.Machine) (res runResult, err error) {
	log.Printf("starting kube-apiserver and etcd")
	c, err := startCluster(o.rateLimit)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, c.stop()) }()
	if m.KubeVersion == "" {
		if m.KubeVersion, err = c.serverVersion(); err != nil {
			return res, fmt.Errorf("asking kube-apiserver its version: %w", err)
		}
	}
	a, err := c.startAgent(0)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, a.stop()) }()
	if o.wants("revert") {
		if res.revert, err = measureRevert(ctx, c, a, o, log); err != nil {
			return res, fmt.Errorf("revert latency: %w", err)
		}
	}
	if o.wants("cost") {
		if res.cost, err = measureCost(ctx, c, &a, o, log); err != nil {
			return res, fmt.Errorf("reconcile cost: %w", err)
		}
	}
	return res, nil
}
