package notify

import (
	"context"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// A failure or resolved message is written to its Alert's status.pending
// in the same patch as the episodes that decided it, and removed once its
// delivery ends (delivered, or given up after every retry). An agent that
// stops in between leaves it there, and the next leader sends it: no
// message is sent twice for one episode, and none is lost.

// maxPending bounds status.pending (the CRD's maxItems).
const maxPending = 100

// needsRecord reports whether a message must survive a restart: the
// failure and resolved messages of episodes, not info messages.
func needsRecord(m *Message) bool { return m.Kind == KindFailure || m.Kind == KindResolved }

// toPending is the status form of a message.
func toPending(id string, m Message) v1alpha1.PendingMessage {
	return v1alpha1.PendingMessage{
		ID: id, Kind: m.Kind, Object: m.Event.Object.String(), APIVersion: m.Event.Object.APIVersion,
		Objects: slices.Clone(m.Objects), Severity: m.Event.Severity, Reason: m.Event.Reason,
		Message: m.Event.Message, Revision: m.Event.Revision, Time: metav1.NewTime(m.Event.Time),
	}
}

// fromPending is the message a status entry records; metadata are the
// Alert's eventMetadata.
func fromPending(p v1alpha1.PendingMessage, metadata map[string]string) Message {
	kind, rest, _ := strings.Cut(p.Object, "/")
	ns, name, _ := strings.Cut(rest, "/")
	return Message{
		Kind: p.Kind, Objects: slices.Clone(p.Objects), Metadata: metadata,
		Event: Event{
			Object:   ObjectRef{Kind: kind, Namespace: ns, Name: name, APIVersion: p.APIVersion},
			Severity: p.Severity, Reason: p.Reason, Message: p.Message, Revision: p.Revision, Time: p.Time.Time,
			Ready: p.Kind == KindResolved,
		},
	}
}

// newMessageID names a pending message.
func newMessageID() string { return string(uuid.NewUUID()) }

// writeStatus writes episodes and pending messages of an Alert, changing
// pending by edit, as one patch. The engine is the only writer of these
// fields; statusMu orders its event loop and its deliveries.
func (e *Engine) writeStatus(ctx context.Context, alert types.NamespacedName, uid types.UID, oldEps, newEps []v1alpha1.AlertEpisode, edit func([]v1alpha1.PendingMessage) []v1alpha1.PendingMessage) {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	cur := e.pending[uid]
	next := edit(slices.Clone(cur))
	before := &v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: alert.Namespace, Name: alert.Name}}
	before.Status.Episodes, before.Status.Pending = oldEps, cur
	after := before.DeepCopy()
	after.Status.Episodes, after.Status.Pending = slices.Clone(newEps), next
	if err := e.client.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil {
		e.opts.Log.Error(err, "recording the Alert's episodes and pending messages", "alert", alert.String())
		return
	}
	e.pending[uid] = next
}

// delivered removes a message from its Alert's pending ones.
func (e *Engine) delivered(ctx context.Context, d delivery) {
	if d.id == "" {
		return
	}
	e.writeStatus(ctx, d.alert, d.uid, nil, nil, func(p []v1alpha1.PendingMessage) []v1alpha1.PendingMessage {
		return slices.DeleteFunc(p, func(m v1alpha1.PendingMessage) bool { return m.ID == d.id })
	})
}

// resume sends the pending messages of every Alert, left by an agent that
// stopped before delivering them.
func (e *Engine) resume(ctx context.Context) {
	var alerts v1alpha1.AlertList
	if err := e.client.List(ctx, &alerts); err != nil {
		e.opts.Log.Error(err, "listing Alerts for their pending messages")
		return
	}
	for _, a := range alerts.Items {
		if len(a.Status.Pending) == 0 {
			continue
		}
		e.statusMu.Lock()
		e.pending[a.UID] = slices.Clone(a.Status.Pending)
		e.statusMu.Unlock()
		key := client.ObjectKeyFromObject(&a)
		for _, p := range a.Status.Pending {
			e.send(delivery{alert: key, uid: a.UID, id: p.ID, msg: fromPending(p, a.Spec.EventMetadata)})
		}
	}
}
