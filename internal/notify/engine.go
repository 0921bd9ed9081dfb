package notify

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// Options configure an Engine.
type Options struct {
	// QueueSize bounds the events waiting to be matched and the messages
	// waiting per Alert; beyond it they are dropped and counted.
	QueueSize int
	// Attempts is how many times a message is tried before it is given up.
	Attempts int
	// Backoff is the wait before the first retry; it doubles up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Metrics records deliveries; nil records nothing.
	Metrics *metrics.NotifyRecorder
	// Log receives the engine's logs, never a URL or a token.
	Log logr.Logger
}

// DefaultOptions returns the options of the agent's engine.
func DefaultOptions() Options {
	return Options{QueueSize: 1024, Attempts: 6, Backoff: time.Second, MaxBackoff: time.Minute, Log: logr.Discard()}
}

// Engine matches events to Alerts and delivers their messages. It runs as
// a manager Runnable on the leader; Enqueue never blocks.
type Engine struct {
	client client.Client
	opts   Options
	events chan Event

	// episodes mirrors each Alert's status.episodes (by UID); only the
	// event loop touches it.
	episodes map[types.UID][]v1alpha1.AlertEpisode

	mu     sync.Mutex
	queues map[types.NamespacedName]chan delivery
	ctx    context.Context
}

var (
	_ Sink             = (*Engine)(nil)
	_ manager.Runnable = (*Engine)(nil)
)

// delivery is one message for one Alert.
type delivery struct {
	alert types.NamespacedName
	msg   Message
}

// NewEngine returns an Engine that reads Alerts and Providers through c
// (Secrets are read live).
func NewEngine(c client.Client, opts Options) *Engine {
	def := DefaultOptions()
	if opts.QueueSize <= 0 {
		opts.QueueSize = def.QueueSize
	}
	if opts.Attempts <= 0 {
		opts.Attempts = def.Attempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = def.Backoff
	}
	if opts.MaxBackoff < opts.Backoff {
		opts.MaxBackoff = max(def.MaxBackoff, opts.Backoff)
	}
	if opts.Log.GetSink() == nil {
		opts.Log = def.Log
	}
	return &Engine{
		client: c, opts: opts, events: make(chan Event, opts.QueueSize),
		episodes: map[types.UID][]v1alpha1.AlertEpisode{}, queues: map[types.NamespacedName]chan delivery{},
	}
}

// Enqueue hands an event to the engine, or drops it when the queue is full.
func (e *Engine) Enqueue(ev Event) {
	select {
	case e.events <- ev:
	default:
		e.opts.Log.Info("notification queue full, event dropped", "object", ev.Object.String(), "reason", ev.Reason)
		e.opts.Metrics.Delivery(ev.Object.Namespace, "", metrics.DeliveryDropped)
	}
}

// Start runs the event loop until ctx ends.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-e.events:
			e.handle(ctx, ev)
		}
	}
}

// handle matches one event against every Alert.
func (e *Engine) handle(ctx context.Context, ev Event) {
	var alerts v1alpha1.AlertList
	if err := e.client.List(ctx, &alerts); err != nil {
		e.opts.Log.Error(err, "listing Alerts; event dropped", "object", ev.Object.String())
		return
	}
	live := make(map[types.UID]bool, len(alerts.Items))
	for i := range alerts.Items {
		live[alerts.Items[i].UID] = true
		e.apply(ctx, &alerts.Items[i], ev)
	}
	maps.DeleteFunc(e.episodes, func(uid types.UID, _ []v1alpha1.AlertEpisode) bool { return !live[uid] })
}

// apply runs one event through one Alert.
func (e *Engine) apply(ctx context.Context, alert *v1alpha1.Alert, ev Event) {
	if alert.Spec.Suspend || !alert.DeletionTimestamp.IsZero() {
		return
	}
	f, err := NewFilter(alert)
	if err != nil || !f.Selects(ev) {
		return // a bad list is reported by the Alert's reconciler
	}
	if ev.Severity == SeverityError && !f.Passes(ev) {
		return
	}
	old, ok := e.episodes[alert.UID]
	if !ok {
		old = alert.Status.Episodes
	}
	eps, msg := Decide(old, Policy{GroupBy: alert.Spec.GroupBy, Threshold: alert.Spec.Threshold}, ev, f.WantsInfo())
	if !equality.Semantic.DeepEqual(old, eps) {
		e.persist(ctx, alert, old, eps)
	}
	e.episodes[alert.UID] = eps
	if msg == nil || (msg.Kind == KindInfo && !f.Passes(ev)) {
		return
	}
	msg.Metadata = maps.Clone(alert.Spec.EventMetadata)
	e.send(delivery{alert: client.ObjectKeyFromObject(alert), msg: *msg})
}

// persist writes the episodes to the Alert's status before the message
// goes out, so a restart after the send does not send again.
func (e *Engine) persist(ctx context.Context, alert *v1alpha1.Alert, old, eps []v1alpha1.AlertEpisode) {
	before := &v1alpha1.Alert{ObjectMeta: alert.ObjectMeta}
	before.Status.Episodes = old
	after := before.DeepCopy()
	after.Status.Episodes = slices.Clone(eps)
	if err := e.client.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil {
		e.opts.Log.Error(err, "recording the Alert's episodes", "alert", client.ObjectKeyFromObject(alert).String())
	}
}

// send queues a message on its Alert's queue, so one Alert's messages go
// out in order and a slow Provider holds up only its own Alerts.
func (e *Engine) send(d delivery) {
	e.mu.Lock()
	q, ok := e.queues[d.alert]
	if !ok {
		q = make(chan delivery, e.opts.QueueSize)
		e.queues[d.alert] = q
		go e.deliverAll(e.ctx, q)
	}
	e.mu.Unlock()
	select {
	case q <- d:
	default:
		e.opts.Log.Info("delivery queue full, message dropped", "alert", d.alert.String())
		e.opts.Metrics.Delivery(d.alert.Namespace, d.alert.Name, metrics.DeliveryDropped)
	}
}

func (e *Engine) deliverAll(ctx context.Context, q chan delivery) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-q:
			e.deliver(ctx, d)
		}
	}
}
