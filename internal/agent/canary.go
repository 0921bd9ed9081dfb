package agent

import (
	"fmt"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// setupCanary registers the Canary reconciler.
//
// COORDINATOR: plug the seams in here once their packages land:
//
//	Checker:     metrics.New(...)   (internal/canary/metrics)
//	Hooks:       webhook.New(...)   (internal/canary/webhook)
//	Ledger:      ledger.New(...)    (internal/canary/ledger), GitRollback too
//	the gatewayapi router registers itself with router.Register (or set
//	NewRouter to a function that knows it).
//
// Until then Checker and Hooks stay nil: the reconciler refuses (Stalled,
// with a message saying why) any Canary with metrics or webhooks rather
// than pass a check it did not run, and writes no ledger notes.
func setupCanary(mgr ctrl.Manager, opts Options, rec *metrics.Recorder, recorder events.EventRecorder, c *Controllers) error {
	c.Canary = &controller.CanaryReconciler{
		Client: mgr.GetClient(), Events: recorder, Metrics: rec,
	}
	if err := c.Canary.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return fmt.Errorf("setting up the Canary controller: %w", err)
	}
	return nil
}
