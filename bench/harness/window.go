package harness

import "time"

// Probe is what the benchmark reads at one instant: the controllers' API
// requests so far, the process CPU time, and the reconciles finished.
type Probe struct {
	At       time.Time
	Requests Counts
	CPU      time.Duration
	// Reconciles finished and their summed wall time in seconds.
	Reconciles, ReconcileSeconds float64
}

// Window is what happened between two probes.
type Window struct {
	Elapsed  time.Duration
	Requests Counts
	CPU      time.Duration
	// Reconciles finished in the window and their summed wall time.
	Reconciles, ReconcileSeconds float64
}

// Since returns the window from before to p.
func (p Probe) Since(before Probe) Window {
	return Window{
		Elapsed:          p.At.Sub(before.At),
		Requests:         p.Requests.Sub(before.Requests),
		CPU:              p.CPU - before.CPU,
		Reconciles:       p.Reconciles - before.Reconciles,
		ReconcileSeconds: p.ReconcileSeconds - before.ReconcileSeconds,
	}
}

// Add returns the union of two windows that do not overlap.
func (w Window) Add(o Window) Window {
	sum := Window{
		Elapsed:          w.Elapsed + o.Elapsed,
		Requests:         Counts{},
		CPU:              w.CPU + o.CPU,
		Reconciles:       w.Reconciles + o.Reconciles,
		ReconcileSeconds: w.ReconcileSeconds + o.ReconcileSeconds,
	}
	for _, c := range []Counts{w.Requests, o.Requests} {
		for v, n := range c {
			sum.Requests[v] += n
		}
	}
	return sum
}

// Cost is one reconcile's share of a window: requests by verb, wall time
// and CPU seconds.
type Cost struct {
	// Reconciles is how many reconciles the window held.
	Reconciles float64
	Requests   map[Verb]float64
	// Wall is the mean reconcile duration in seconds.
	Wall float64
	// CPU is the process CPU seconds of the window per reconcile.
	CPU float64
}

// PerReconcile divides the window by the reconciles it held; a window
// without any reconcile is returned whole (a baseline).
func (w Window) PerReconcile() Cost {
	n := w.Reconciles
	div := max(n, 1)
	c := Cost{Reconciles: n, Requests: map[Verb]float64{}, CPU: w.CPU.Seconds() / div}
	if n > 0 {
		c.Wall = w.ReconcileSeconds / n
	}
	for v, k := range w.Requests {
		c.Requests[v] = float64(k) / div
	}
	return c
}
