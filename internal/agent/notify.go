package agent

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// DefaultWebhookAddr is where the agent serves Receivers' webhooks.
const DefaultWebhookAddr = ":9292"

// Notifications are the alert engine and the webhook server of an agent.
type Notifications struct {
	// Engine matches events to Alerts and delivers their messages.
	Engine *notify.Engine
	// Receivers serves webhooks; nil when --webhook-addr is "0".
	Receivers *notify.ReceiverServer
}

// Recorder wraps the manager's event recorder so every event recorded
// also reaches the Alerts.
func (n *Notifications) Recorder(mgr ctrl.Manager, inner events.EventRecorder) events.EventRecorder {
	return notify.NewRecorder(inner, n.Engine, mgr.GetScheme())
}

// setupNotifications registers the Provider, Alert and Receiver
// reconcilers, the engine and (unless disabled) the webhook server.
func setupNotifications(mgr ctrl.Manager, opts Options, reg prometheus.Registerer) (*Notifications, error) {
	rec := metrics.NewNotifyRecorder(reg)
	engineOpts := opts.Notify
	engineOpts.Metrics, engineOpts.Log = rec, mgr.GetLogger().WithName("notify")
	engineOpts.SameNamespaceOnly = opts.Lockdown.NoCrossNamespaceRefs
	n := &Notifications{Engine: notify.NewEngine(mgr.GetClient(), engineOpts)}
	if err := mgr.Add(n.Engine); err != nil {
		return nil, err
	}
	if err := (&controller.ProviderReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Provider controller: %w", err)
	}
	if err := (&controller.AlertReconciler{Client: mgr.GetClient(), NoCrossNamespaceRefs: opts.Lockdown.NoCrossNamespaceRefs}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Alert controller: %w", err)
	}
	if opts.WebhookAddr == "0" || opts.WebhookAddr == "" {
		return n, nil
	}
	n.Receivers = notify.NewReceiverServer(&notify.AnnotationRequester{Client: mgr.GetClient()}, notify.ServerOptions{
		Addr: opts.WebhookAddr, CertFile: opts.WebhookCertFile, KeyFile: opts.WebhookKeyFile,
		Metrics: rec, Log: mgr.GetLogger().WithName("receiver"),
	})
	if err := mgr.Add(n.Receivers); err != nil {
		return nil, err
	}
	if err := (&controller.ReceiverReconciler{Client: mgr.GetClient(), Routes: n.Receivers}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Receiver controller: %w", err)
	}
	return n, nil
}
