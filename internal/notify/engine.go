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
	// SameNamespaceOnly gives an Alert only the events of objects in its
	// own namespace (the agent's --no-cross-namespace-refs).
	SameNamespaceOnly bool
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

	// statusMu orders the writes of status.episodes and status.pending;
	// pending mirrors each Alert's status.pending (by UID).
	statusMu sync.Mutex
	pending  map[types.UID][]v1alpha1.PendingMessage
}

var (
	_ Sink             = (*Engine)(nil)
	_ manager.Runnable = (*Engine)(nil)
)

// delivery is one message for one Alert.
type delivery struct {
	alert types.NamespacedName
	msg   Message
	// uid and id name the message in the Alert's status.pending; id is
	// empty for a message that is not recorded there (info).
	uid types.UID
	id  string
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
		pending: map[types.UID][]v1alpha1.PendingMessage{},
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
	e.resume(ctx)
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
	e.statusMu.Lock()
	maps.DeleteFunc(e.pending, func(uid types.UID, _ []v1alpha1.PendingMessage) bool { return !live[uid] })
	e.statusMu.Unlock()
}

// apply runs one event through one Alert.
func (e *Engine) apply(ctx context.Context, alert *v1alpha1.Alert, ev Event) {
	if alert.Spec.Suspend || !alert.DeletionTimestamp.IsZero() {
		return
	}
	if e.opts.SameNamespaceOnly && ev.Object.Namespace != alert.Namespace {
		return // the Alert's reconciler says it is Stalled
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
	if msg != nil && msg.Kind == KindInfo && !f.Passes(ev) {
		msg = nil
	}
	var d *delivery
	if msg != nil {
		msg.Metadata = maps.Clone(alert.Spec.EventMetadata)
		d = &delivery{alert: client.ObjectKeyFromObject(alert), msg: *msg, uid: alert.UID}
		if needsRecord(msg) {
			d.id = newMessageID()
		}
	}
	if !equality.Semantic.DeepEqual(old, eps) || (d != nil && d.id != "") {
		e.persist(ctx, alert, old, eps, d)
	}
	e.episodes[alert.UID] = eps
	if d != nil {
		e.send(*d)
	}
}

// persist writes the episodes, and the message about to go out, to the
// Alert's status before it goes out: a restart after the send does not
// send it again, and a restart before its delivery sends it then.
func (e *Engine) persist(ctx context.Context, alert *v1alpha1.Alert, old, eps []v1alpha1.AlertEpisode, d *delivery) {
	e.statusMu.Lock()
	if _, ok := e.pending[alert.UID]; !ok {
		e.pending[alert.UID] = slices.Clone(alert.Status.Pending)
	}
	e.statusMu.Unlock()
	e.writeStatus(ctx, client.ObjectKeyFromObject(alert), alert.UID, old, eps, func(p []v1alpha1.PendingMessage) []v1alpha1.PendingMessage {
		if d == nil || d.id == "" {
			return p
		}
		if len(p) >= maxPending {
			e.opts.Log.Info("too many pending messages, the oldest is dropped", "alert", d.alert.String(), "dropped", p[0].Object)
			p = p[1:]
		}
		return append(p, toPending(d.id, d.msg))
	})
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
