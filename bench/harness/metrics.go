package harness

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Names of the agent's reconcile metrics (internal/metrics).
const (
	reconcileTotal    = "flotilla_reconcile_total"
	reconcileDuration = "flotilla_reconcile_duration_seconds"
)

// Reconciles reads the reconciles of kind finished so far, all results
// together, from flotilla_reconcile_total, and their summed wall time in
// seconds from flotilla_reconcile_duration_seconds.
func Reconciles(g prometheus.Gatherer, kind string) (count, seconds float64, err error) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, 0, err
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			ofKind := false
			for _, l := range m.GetLabel() {
				ofKind = ofKind || (l.GetName() == "kind" && l.GetValue() == kind)
			}
			if !ofKind {
				continue
			}
			switch mf.GetName() {
			case reconcileTotal:
				count += m.GetCounter().GetValue()
			case reconcileDuration:
				seconds += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return count, seconds, nil
}
