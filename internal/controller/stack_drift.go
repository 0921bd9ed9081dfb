package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/drift"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// DefaultSafetyInterval is how long a Stack may go without a full re-apply
// when nothing changed and the watch vouches for its objects.
const DefaultSafetyInterval = time.Hour

// maxDriftRecords bounds status.drift.
const maxDriftRecords = 10

// appliedRender remembers the last render a Stack applied, in memory: after
// a restart the first reconcile re-applies (and finds everything unchanged).
type appliedRender struct {
	digest string
	at     time.Time
}

// renderMemory is the per-agent memory of applied renders.
type renderMemory struct {
	mu sync.Mutex
	m  map[types.NamespacedName]appliedRender
}

func (rm *renderMemory) get(k types.NamespacedName) (appliedRender, bool) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	a, ok := rm.m[k]
	return a, ok
}

func (rm *renderMemory) set(k types.NamespacedName, a appliedRender) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.m == nil {
		rm.m = map[types.NamespacedName]appliedRender{}
	}
	rm.m[k] = a
}

func (rm *renderMemory) forget(k types.NamespacedName) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	delete(rm.m, k)
}

// renderDigest hashes the rendered objects, order-independent.
func renderDigest(objs []*unstructured.Unstructured) string {
	docs := make([]string, 0, len(objs))
	for _, o := range objs {
		b, _ := json.Marshal(o.Object)
		docs = append(docs, string(b))
	}
	sort.Strings(docs)
	h := sha256.New()
	for _, d := range docs {
		h.Write([]byte(d))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// upToDate reports whether the apply can be skipped: the same render was
// applied within the safety interval, the Stack is Ready at this revision,
// the drift watch has synced, so any change to the objects since would
// have been seen and handled, and no reconcile request is new (a request
// re-applies, which puts back what a `drift: report` Stack left changed).
func (r *StackReconciler) upToDate(obj *v1alpha1.Stack, revision, digest string) bool {
	key := client.ObjectKeyFromObject(obj)
	last, ok := r.renders.get(key)
	safety := r.SafetyInterval
	if safety == 0 {
		safety = DefaultSafetyInterval
	}
	return ok && r.Drift != nil && last.digest == digest && time.Since(last.at) < safety &&
		stackspec.ReadyAt(obj, revision) && r.Drift.Synced(key) && !v1alpha1.ReconcileRequested(obj, obj.Status.LastHandledReconcileAt)
}

// driftTargets pairs each object the apply wrote (or found unchanged) with
// its desired state.
func driftTargets(objs []*unstructured.Unstructured, changes apply.ChangeSet) []drift.Target {
	byKey := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		byKey[apply.MetadataOf(o).Key()] = o
	}
	targets := make([]drift.Target, 0, len(objs))
	for _, c := range changes.Changes {
		if d := byKey[c.Object.Key()]; d != nil && c.Result != nil {
			targets = append(targets, drift.Target{Desired: d, Result: c.Result})
		}
	}
	return targets
}

func (r *StackReconciler) driftWatch(obj *v1alpha1.Stack) drift.Watch {
	return drift.Watch{Policy: driftPolicy(obj), Identity: r.Lockdown.identity(obj)}
}

// amendWatch follows an apply that failed or stalled after writing: the
// drift watch takes what it wrote as desired, object by object, and keeps
// the rest as the last successful apply left it.
func (r *StackReconciler) amendWatch(ctx context.Context, obj *v1alpha1.Stack, objs []*unstructured.Unstructured, changes apply.ChangeSet) {
	if r.Drift == nil {
		return
	}
	key := client.ObjectKeyFromObject(obj)
	targets := driftTargets(objs, changes)
	if len(targets) == 0 {
		r.Drift.End(key)
		return
	}
	var refused *drift.WatchError
	if err := r.Drift.Amend(ctx, key, r.driftWatch(obj), targets); err != nil && !errors.As(err, &refused) {
		log.FromContext(ctx).Error(err, "watching the objects a failed apply wrote")
		r.Drift.End(key)
	}
}

// track hands the applied objects to the drift watch and remembers the render.
func (r *StackReconciler) track(ctx context.Context, obj *v1alpha1.Stack, objs []*unstructured.Unstructured, changes apply.ChangeSet, digest string) {
	key := client.ObjectKeyFromObject(obj)
	if r.Drift == nil {
		return
	}
	err := r.Drift.Track(ctx, key, r.driftWatch(obj), driftTargets(objs, changes))
	var refused *drift.WatchError
	if err != nil && !errors.As(err, &refused) {
		log.FromContext(ctx).Error(err, "watching the applied objects for drift")
		r.Drift.End(key)
		return
	}
	r.recordWatch(ctx, obj, err)
	r.renders.set(key, appliedRender{digest: digest, at: time.Now()})
}

// recordWatch shows which applied objects the drift watch cannot see: a
// log line, the DriftWatch condition, and a Warning event when the
// condition changes. err joins the *drift.WatchError of Track; nil clears
// the condition.
func (r *StackReconciler) recordWatch(ctx context.Context, obj *v1alpha1.Stack, err error) {
	if err == nil {
		conditions.ClearDriftWatch(obj)
		return
	}
	reason := v1alpha1.ReasonWatchFailed
	if errors.Is(err, drift.ErrWatchForbidden) {
		reason = v1alpha1.ReasonWatchForbidden
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ") +
		"; edits there are not seen until the next full apply (every spec.interval): grant list and watch on them"
	log.FromContext(ctx).Error(err, "drift watch refused", "stack", client.ObjectKeyFromObject(obj).String(),
		"identity", stackspec.IdentityName(r.Lockdown.identity(obj)))
	if !driftWatchSays(obj, reason, msg) {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, reason, "WatchDrift", "%s", msg)
	}
	conditions.MarkDriftWatchFailed(obj, reason, msg)
}

// driftWatchSays reports whether the DriftWatch condition already records
// this failure, so that a reconcile that finds it again adds no event.
func driftWatchSays(obj *v1alpha1.Stack, reason, message string) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.DriftWatchCondition)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason && c.Message == message
}

func driftPolicy(obj *v1alpha1.Stack) v1alpha1.DriftPolicy {
	if obj.Spec.Drift == "" {
		return v1alpha1.DriftCorrect
	}
	return obj.Spec.Drift
}

// CorrectDrift re-applies one object as the Stack applies it (its service
// account, force, owner labels); it is the drift watch's Corrector.
func (r *StackReconciler) CorrectDrift(ctx context.Context, stack types.NamespacedName, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var obj v1alpha1.Stack
	if err := r.Get(ctx, stack, &obj); err != nil {
		return nil, err
	}
	mgr, err := r.applier(&obj)
	if err != nil {
		return nil, err
	}
	live, err := mgr.ApplyOne(ctx, desired)
	if err != nil {
		// The refusal may quote the object's values: mask the Secret's and
		// the substituted ones before it reaches the event and the status.
		_, red, _ := stackspec.Variables(ctx, r.Client, &obj)
		return nil, maskCorrection(red, desired, err)
	}
	return live, nil
}

// maskCorrection returns err with the values of desired (when a Secret) and
// those red knows masked; nil red masks only the Secret's.
func maskCorrection(red *redact.Redactor, desired *unstructured.Unstructured, err error) error {
	if red == nil {
		red = redact.New()
	}
	red.AddSecrets(desired)
	return errors.New(red.String(apply.Reason(err)))
}

// Drifted records one drift: an event on the Stack, a status.drift entry
// and a metric. It is the drift watch's Sink.
func (r *StackReconciler) Drifted(ctx context.Context, rec drift.Record) {
	var obj v1alpha1.Stack
	if err := r.Get(ctx, rec.Stack, &obj); err != nil {
		return
	}
	r.Metrics.Drift(rec.Stack.Namespace, rec.Stack.Name, rec.Object.Kind, string(rec.Action))
	msg := driftMessage(rec)
	eventType := corev1.EventTypeNormal
	if rec.Err != nil || rec.Action == drift.Reported {
		eventType = corev1.EventTypeWarning
	}
	r.Events.Eventf(&obj, nil, eventType, "Drift", string(rec.Action), "%s", msg)
	log.FromContext(ctx).Info("drift", "stack", rec.Stack.String(), "object", rec.Object.String(), "fields", rec.Fields, "manager", rec.Manager, "action", rec.Action)
	entry := v1alpha1.DriftRecord{Object: rec.Object.String(), Fields: rec.Fields, Manager: rec.Manager, Action: string(rec.Action), Time: metav1.NewTime(rec.Time)}
	if rec.Err != nil {
		entry.Action += " (failed: " + apply.Reason(rec.Err) + ")"
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var latest v1alpha1.Stack
		if err := r.Get(ctx, rec.Stack, &latest); err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(latest.DeepCopy(), client.MergeFromWithOptimisticLock{})
		latest.Status.Drift = append([]v1alpha1.DriftRecord{entry}, latest.Status.Drift...)
		if len(latest.Status.Drift) > maxDriftRecords {
			latest.Status.Drift = latest.Status.Drift[:maxDriftRecords]
		}
		return r.Status().Patch(ctx, &latest, patch)
	})
	if err != nil {
		log.FromContext(ctx).Error(err, "recording drift in status", "stack", rec.Stack.String())
	}
}

func driftMessage(rec drift.Record) string {
	who := rec.Manager
	if who == "" {
		who = "an unknown actor"
	}
	msg := string(rec.Action) + " " + rec.Object.String() + ": changed by " + who
	if len(rec.Fields) > 0 {
		msg += " (" + joinFields(rec.Fields) + ")"
	}
	if rec.Err != nil {
		msg += "; correction failed: " + apply.Reason(rec.Err)
	}
	return msg
}

func joinFields(f []string) string {
	out := ""
	for i, s := range f {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

var (
	_ drift.Sink      = (*StackReconciler)(nil)
	_ drift.Corrector = (&StackReconciler{}).CorrectDrift
)
