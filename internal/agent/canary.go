package agent

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	canarymetrics "github.com/flotilla-io/flotilla/internal/canary/metrics"
	"github.com/flotilla-io/flotilla/internal/canary/webhook"
	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// setupCanary registers the Canary reconciler with its seams: metric checks
// against Prometheus, Flagger's webhooks, the rollout ledger in Git notes
// (a notes-only clone per repository under the data directory), and the
// quarantine of a failed image in its ImagePolicy.
func setupCanary(mgr ctrl.Manager, opts Options, rec *metrics.Recorder, recorder events.EventRecorder, c *Controllers) error {
	var checkerOpts []canarymetrics.Option
	if opts.Lockdown.NoCrossNamespaceRefs {
		checkerOpts = append(checkerOpts, canarymetrics.WithNoCrossNamespaceRefs())
	}
	store := ledger.NewStore(ledger.WithDir(filepath.Join(opts.DataDir, "ledger")))
	c.Canary = &controller.CanaryReconciler{
		Client: mgr.GetClient(), Events: recorder, Metrics: rec,
		Checker:     canarymetrics.New(mgr.GetAPIReader(), checkerOpts...),
		Hooks:       webhook.New(),
		Ledger:      ledger.New(mgr.GetAPIReader(), store),
		GitRollback: ledger.NewRollback(mgr.GetClient()),
	}
	if err := c.Canary.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return fmt.Errorf("setting up the Canary controller: %w", err)
	}
	return nil
}
