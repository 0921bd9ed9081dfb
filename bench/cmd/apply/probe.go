package main

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
)

// probe is what the benchmark reads of the agent process at one instant.
type probe struct {
	// requests are the agent's API requests so far by HTTP method.
	requests map[string]float64
	usage    harness.Usage
	// reconciles of Stacks finished so far and their summed seconds.
	reconciles, seconds float64
}

// cost is what one window of the agent's life cost.
type cost struct {
	reconciles float64
	requests   map[string]float64
	// wall is the mean Stack reconcile duration in seconds.
	wall float64
	// cpu is the agent's CPU seconds over the window.
	cpu float64
}

// since returns the cost of the window from before to p.
func (p probe) since(before probe) cost {
	c := cost{
		reconciles: p.reconciles - before.reconciles,
		requests:   map[string]float64{},
		cpu:        (p.usage.CPU - before.usage.CPU).Seconds(),
	}
	if c.reconciles > 0 {
		c.wall = (p.seconds - before.seconds) / c.reconciles
	}
	for m, n := range p.requests {
		if d := n - before.requests[m]; d != 0 {
			c.requests[m] = d
		}
	}
	return c
}

// probe reads the agent's metrics and /proc.
func (c *cluster) probe() (probe, error) {
	fams, err := c.agent.Gather()
	if err != nil {
		return probe{}, fmt.Errorf("scraping the agent's metrics: %w", err)
	}
	p := probe{requests: harness.RESTRequests(fams)}
	gathered := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return fams, nil })
	if p.reconciles, p.seconds, err = harness.Reconciles(gathered, v1alpha1.StackKind); err != nil {
		return probe{}, err
	}
	if p.usage, err = c.agent.Usage(); err != nil {
		return probe{}, fmt.Errorf("reading the agent's usage: %w", err)
	}
	return p, nil
}

// quietScrape is how often waitQuiet scrapes the agent.
const quietScrape = 100 * time.Millisecond

// waitQuiet waits until the agent has sent no API request for d, as its
// request counters show: the work that follows a reconcile (events, the
// drift watch starting) is done.
func (c *cluster) waitQuiet(ctx context.Context, d time.Duration) error {
	var last map[string]float64
	since := time.Now()
	return c.poll(ctx, 2*time.Minute, "the agent to send no request for "+d.String(), func() error {
		p, err := c.probe()
		if err != nil {
			return err
		}
		if !maps.Equal(p.requests, last) {
			last, since = p.requests, time.Now()
		}
		if time.Since(since) < d {
			time.Sleep(quietScrape)
			return fmt.Errorf("requests %v", last)
		}
		return nil
	})
}

// waitReconciles waits until the agent has finished n Stack reconciles.
func (c *cluster) waitReconciles(ctx context.Context, n float64) error {
	return c.poll(ctx, c.o.timeout, fmt.Sprintf("%v Stack reconciles", n), func() error {
		p, err := c.probe()
		if err != nil || p.reconciles >= n {
			return err
		}
		return fmt.Errorf("%v finished", p.reconciles)
	})
}
