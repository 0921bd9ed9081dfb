package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/test/controlplane"
)

// maxPause is the longest random pause between two changes: it keeps the
// changes from falling in step with the server's 100 ms coalescing.
const maxPause = 250 * time.Millisecond

// delays are the latencies of the changes of one run.
type delays struct {
	// first is, per change, the delay to the first event stream that
	// carried it; all to the last of them (every stream had it).
	first, all []time.Duration
	// page is the delay to the browser's matrix cell; empty without one.
	page []time.Duration
}

// observers are what a change is timed to: the event streams and,
// optionally, the browser.
type observers struct {
	streams []*stream
	browser *browser
}

// change is one status patch being timed.
type change struct {
	cluster, stack, revision, ready string
	sent                            time.Time
}

// timeChanges patches n random Stacks, one at a time, each a new revision
// and the opposite readiness, and times each until every observer shows it.
func timeChanges(ctx context.Context, f *fleet, obs observers, n int, rng *rand.Rand, timeout time.Duration) (delays, error) {
	var d delays
	for k := range n {
		i := rng.IntN(len(f.stacks))
		j := rng.IntN(len(f.stacks[i]))
		c, err := f.patch(ctx, i, j, fmt.Sprintf("main@sha1:%s", fakeSHA(fmt.Sprintf("change-%d-%d", rng.Uint64(), k))))
		if err != nil {
			return d, err
		}
		if err := obs.wait(ctx, c, &d, timeout); err != nil {
			return d, fmt.Errorf("change %d of %d: %w", k+1, n, err)
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(time.Duration(rng.Int64N(int64(maxPause)))):
		}
	}
	return d, nil
}

// patch writes a change to the status of Stack j of cluster i, through the
// status subresource, as the agent would after a reconcile. The clock
// starts before the request is sent.
func (f *fleet) patch(ctx context.Context, i, j int, revision string) (change, error) {
	s := f.stacks[i][j]
	base := client.MergeFrom(s.DeepCopy())
	ready := applyChange(s, revision, time.Now())
	c := change{cluster: controlplane.ClusterName(i), stack: s.Namespace + "/" + s.Name, revision: revision, ready: string(ready), sent: time.Now()}
	if err := f.shared.Clusters[i].Client.Status().Patch(ctx, s, base); err != nil {
		return c, fmt.Errorf("patching the status of Stack %s in %s: %w", c.stack, c.cluster, err)
	}
	return c, nil
}

// wait waits until every observer shows c and appends its delays to d.
func (obs observers) wait(ctx context.Context, c change, d *delays, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	key := cellKey(c.cluster, c.stack, c.revision, c.ready)
	for {
		times, missing, err := obs.sightings(key, c)
		if err != nil {
			return err
		}
		if missing == "" {
			pageAt := times[len(times)-1]
			if obs.browser != nil {
				d.page = append(d.page, pageAt.Sub(c.sent))
				times = times[:len(times)-1]
			}
			d.first = append(d.first, slices.MinFunc(times, time.Time.Compare).Sub(c.sent))
			d.all = append(d.all, slices.MaxFunc(times, time.Time.Compare).Sub(c.sent))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for Stack %s of %s Ready=%s at %s: %s did not show it within %s", c.stack, c.cluster, c.ready, c.revision, missing, timeout)
		}
		poll := 2 * time.Millisecond // a stream's check costs a map lookup
		if missing == browserMissing {
			poll = pollInterval // the browser's costs a DevTools round trip
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// browserMissing is what sightings says while only the browser lacks a
// change.
const browserMissing = "the browser's matrix"

// sightings are the times each stream, then the browser, first showed
// the change; missing names the first observer that has not yet.
func (obs observers) sightings(key string, c change) (times []time.Time, missing string, err error) {
	for n, s := range obs.streams {
		t, ok := s.when(key)
		if !ok {
			if err := s.ended(); err != nil {
				return nil, "", fmt.Errorf("event stream %d: %w", n+1, err)
			}
			return nil, fmt.Sprintf("event stream %d", n+1), nil
		}
		times = append(times, t)
	}
	if obs.browser == nil {
		return times, "", nil
	}
	t, ok, err := obs.browser.cellTime(c.cluster, c.stack, c.revision, c.ready)
	if err != nil || !ok {
		return nil, browserMissing, err
	}
	return append(times, t), "", nil
}
