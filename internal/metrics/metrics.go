// Package metrics defines the Prometheus metrics the agent exports beside
// controller-runtime's own: reconcile duration and results by kind. It holds
// no global state; the agent registers one Recorder with its registry.
package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Result labels of a reconcile.
const (
	ResultSuccess   = "success"
	ResultFailure   = "failure"
	ResultStalled   = "stalled"
	ResultSuspended = "suspended"
	ResultWaiting   = "waiting"
)

// Recorder records reconcile outcomes.
type Recorder struct {
	duration *prometheus.HistogramVec
	total    *prometheus.CounterVec
	drift    *prometheus.CounterVec
	renders  *prometheus.CounterVec
	scans    *imageScans
}

// NewRecorder returns a Recorder whose metrics are registered with reg.
func NewRecorder(reg prometheus.Registerer) *Recorder {
	r := &Recorder{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flotilla_reconcile_duration_seconds",
			Help:    "Duration of one reconcile, by kind and result.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"kind", "result"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flotilla_reconcile_total",
			Help: "Reconciles finished, by kind and result.",
		}, []string{"kind", "result"}),
	}
	r.drift = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flotilla_drift_total",
		Help: "Changes made outside Flotilla to objects a Stack applied, by Stack, kind and action.",
	}, []string{"namespace", "stack", "kind", "action"})
	r.renders = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flotilla_render_total",
		Help: "Renders (kustomize builds) of a Stack's path, by Stack; a reconcile whose inputs did not change reuses the last render.",
	}, []string{"namespace", "stack"})
	r.scans = newImageScans(reg)
	r.drift = register(reg, r.drift)
	r.renders = register(reg, r.renders)
	r.duration = register(reg, r.duration)
	r.total = register(reg, r.total)
	return r
}

// register adds c to reg, or returns the collector already registered
// under the same description (a second agent in one process shares it).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a conflicting definition is a programming error
	}
	return c
}

// Observe records one reconcile of kind that started at start.
func (r *Recorder) Observe(kind, result string, start time.Time) {
	if r == nil {
		return
	}
	r.duration.WithLabelValues(kind, result).Observe(time.Since(start).Seconds())
	r.total.WithLabelValues(kind, result).Inc()
}

// Drift records one drift of an object of kind, applied by Stack ns/name.
func (r *Recorder) Drift(ns, stack, kind, action string) {
	if r == nil {
		return
	}
	r.drift.WithLabelValues(ns, stack, kind, action).Inc()
}

// Render records one render of Stack ns/name.
func (r *Recorder) Render(ns, stack string) {
	if r == nil {
		return
	}
	r.renders.WithLabelValues(ns, stack).Inc()
}
