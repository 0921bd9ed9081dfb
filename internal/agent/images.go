package agent

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/image/tagstore"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// imageTagsDir is where, under the data directory, the tags of each
// ImageRepository's last scan are kept.
const imageTagsDir = "image-tags"

// setupImageControllers registers the ImageRepository and ImagePolicy
// reconcilers, which share one tag store.
func setupImageControllers(mgr ctrl.Manager, opts Options, rec *metrics.Recorder, recorder events.EventRecorder, c *Controllers) error {
	tags := tagstore.New(filepath.Join(opts.DataDir, imageTagsDir))
	c.ImageRepository = &controller.ImageRepositoryReconciler{
		Client: mgr.GetClient(), Tags: tags, Events: recorder, Metrics: rec,
	}
	if err := c.ImageRepository.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return fmt.Errorf("setting up the ImageRepository controller: %w", err)
	}
	c.ImagePolicy = &controller.ImagePolicyReconciler{
		Client: mgr.GetClient(), Tags: tags, Events: recorder, Metrics: rec,
	}
	if err := c.ImagePolicy.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return fmt.Errorf("setting up the ImagePolicy controller: %w", err)
	}
	return nil
}
