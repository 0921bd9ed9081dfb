package agent

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/image/gitwrite"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// setupImageUpdate registers the ImageUpdate controller with one Git
// writer for the whole agent, so two ImageUpdates pushing to one branch
// take turns.
func setupImageUpdate(mgr ctrl.Manager, opts Options, rec *metrics.Recorder, recorder events.EventRecorder) (*controller.ImageUpdateReconciler, error) {
	r := &controller.ImageUpdateReconciler{
		Client:  mgr.GetClient(),
		Writer:  gitwrite.NewWriter(gitwrite.WithWorkDir(filepath.Join(opts.DataDir, "image-update"))),
		Events:  recorder,
		Metrics: rec,
	}
	if err := r.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return nil, fmt.Errorf("setting up the ImageUpdate controller: %w", err)
	}
	return r, nil
}
