package metrics

import "github.com/prometheus/client_golang/prometheus"

// Delivery results.
const (
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryDropped   = "dropped"
)

// NotifyRecorder records the notification engine's deliveries and the
// webhook receivers' requests.
type NotifyRecorder struct {
	deliveries *prometheus.CounterVec
	failing    *prometheus.GaugeVec
	webhooks   *prometheus.CounterVec
}

// NewNotifyRecorder returns a NotifyRecorder whose metrics are registered with reg.
func NewNotifyRecorder(reg prometheus.Registerer) *NotifyRecorder {
	return &NotifyRecorder{
		deliveries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flotilla_notification_deliveries_total",
			Help: "Messages an Alert sent (after retries), failed to send, or dropped, by Alert and result.",
		}, []string{"namespace", "alert", "result"})),
		failing: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flotilla_notification_delivery_failing",
			Help: "1 while the last message of an Alert could not be delivered after every retry, else 0.",
		}, []string{"namespace", "alert"})),
		webhooks: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flotilla_receiver_requests_total",
			Help: "Webhook requests by HTTP status code answered.",
		}, []string{"code"})),
	}
}

// Delivery records the outcome of one message of Alert ns/name.
func (r *NotifyRecorder) Delivery(ns, name, result string) {
	if r == nil {
		return
	}
	r.deliveries.WithLabelValues(ns, name, result).Inc()
	switch result {
	case DeliverySucceeded:
		r.failing.WithLabelValues(ns, name).Set(0)
	case DeliveryFailed:
		r.failing.WithLabelValues(ns, name).Set(1)
	}
}

// Webhook records one webhook request answered with code.
func (r *NotifyRecorder) Webhook(code string) {
	if r == nil {
		return
	}
	r.webhooks.WithLabelValues(code).Inc()
}
