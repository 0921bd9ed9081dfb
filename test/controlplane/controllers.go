package controlplane

import (
	"context"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"os"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flotilla-io/flotilla/internal/agent"
)

// RunControllers runs Flotilla's controllers in this process, wired as the
// agent wires them, reaching the API server through cfg (as whatever user
// cfg authenticates as), without leader election or a metrics server. The
// returned stop ends them and waits until they have.
func RunControllers(cfg *rest.Config, opts agent.Options, reg prometheus.Registerer) (*agent.Controllers, func(), error) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  v1alpha1.NewScheme(),
		Logger:  logr.Discard(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		Client:  agent.ClientOptions(),
	})
	if err != nil {
		return nil, nil, err
	}
	if opts.WebhookAddr == agent.DefaultWebhookAddr {
		opts.WebhookAddr = "127.0.0.1:0" // test processes run side by side: never the fixed port
	}
	controllers, err := agent.SetupControllers(mgr, cfg, opts, reg)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return controllers, func() { cancel(); <-done }, nil
}
