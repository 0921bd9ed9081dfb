package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/agent"
)

// runResult is what one run measured.
type runResult struct {
	// revert are the revert latencies, one per edit.
	revert []time.Duration
	// cost is the per-reconcile cost by phase.
	cost map[phase]harness.Cost
}

// runOnce measures every figure wanted on a fresh control plane.
func runOnce(ctx context.Context, o options, log *harness.Progress, m *harness.Machine, binary string) (res runResult, err error) {
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
	if o.wants("revert") {
		if res.revert, err = revertWithAgent(ctx, c, o, log, binary); err != nil {
			return res, fmt.Errorf("revert latency: %w", err)
		}
	}
	a, err := c.startAgent(0)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, a.stop()) }()
	if o.wants("cost") {
		if res.cost, err = measureCost(ctx, c, &a, o, log); err != nil {
			return res, fmt.Errorf("reconcile cost: %w", err)
		}
	}
	return res, nil
}

// revertWithAgent measures the revert figure against a `flotilla agent`
// process, stopped afterwards so the cost figure has the cluster alone.
func revertWithAgent(ctx context.Context, c *cluster, o options, log *harness.Progress, binary string) ([]time.Duration, error) {
	qps, burst := "1000", "2000" // as envtest's rest config
	if o.rateLimit == "agent" {
		d := agent.DefaultOptions()
		qps, burst = fmt.Sprint(d.KubeAPIQPS), fmt.Sprint(d.KubeAPIBurst)
	}
	a, err := harness.StartAgent(binary, c.env.Kubeconfig, c.dir, "--kube-api-qps", qps, "--kube-api-burst", burst)
	if err != nil {
		return nil, err
	}
	defer a.Stop()
	if err := a.WaitMetrics(ctx); err != nil {
		return nil, err
	}
	return measureRevert(ctx, c, a, o, log)
}
