package controller

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/drift"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
	"github.com/flotilla-io/flotilla/internal/source/artifact"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// StackReconciler renders, applies, prunes and health-checks Stacks.
type StackReconciler struct {
	client.Client
	// Config reaches the cluster as the agent; impersonation starts from it.
	Config *rest.Config
	// Mapper resolves kinds for the apply clients.
	Mapper meta.RESTMapper
	// Store holds the source artifacts.
	Store *artifact.Store
	// Events records Kubernetes events on the Stack.
	Events events.EventRecorder
	// Metrics records reconcile outcomes; nil records nothing.
	Metrics *metrics.Recorder
	// ApplyOptions are the engine defaults (field manager, concurrency).
	ApplyOptions apply.Options
	// Drift watches applied objects; nil disables drift handling and the
	// free steady state (every reconcile then re-applies).
	Drift *drift.Watcher
	// SafetyInterval bounds how long an unchanged Stack goes without a full
	// re-apply; 0 means DefaultSafetyInterval.
	SafetyInterval time.Duration
	// Lockdown are the multi-tenant settings (cross-namespace references,
	// the default service account).
	Lockdown Lockdown

	renders renderMemory
	// built is the last render of each Stack, reused while its inputs hold.
	built   renderCache
	written writtenVersions
}

// +kubebuilder:rbac:groups=flotilla.io,resources=stacks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=stacks/status;stacks/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=impersonate
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile brings one Stack to the state its source declares.
func (r *StackReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.Stack{}
	if err := readFresh(ctx, r.Client, &r.written, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	start, before := time.Now(), obj.DeepCopy()
	outcome := metrics.ResultSuccess
	defer func() {
		r.Metrics.Observe(v1alpha1.StackKind, outcome, start)
		if obj.DeletionTimestamp.IsZero() {
			obj.Status.ObservedGeneration = obj.Generation
			obj.Status.LastHandledReconcileAt = obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
			err = errors.Join(err, r.patchStatus(ctx, before, obj))
		}
	}()

	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj)
	}
	if err := ensureFinalizer(ctx, r.Client, &r.written, obj, &before); err != nil {
		return ctrl.Result{}, err
	}
	if obj.Spec.Suspend {
		outcome = metrics.ResultSuspended
		conditions.MarkSuspended(obj)
		r.stopWatching(obj) // a suspended Stack leaves hand edits alone
		return ctrl.Result{}, nil
	}
	outcome, result = r.reconcileStack(ctx, obj, before)
	return result, nil
}

// reconcileStack runs the steps in order; each step returns a failure that
// ends the reconcile, or nil. base is the status the final patch is computed
// from; a progress patch on the way moves it.
func (r *StackReconciler) reconcileStack(ctx context.Context, obj, base *v1alpha1.Stack) (string, ctrl.Result) {
	// A Stack that was failing records its recovery even when the apply
	// changes nothing, so Alerts can resolve the failure. Ready may have
	// turned Unknown meanwhile (waiting for a dependency), so a last
	// attempted revision that never applied counts as failing too.
	recovering := conditions.IsFalse(obj, v1alpha1.ReadyCondition) ||
		(obj.Status.LastAttemptedRevision != "" && obj.Status.LastAttemptedRevision != obj.Status.LastAppliedRevision)
	if f := r.Lockdown.crossNamespaceRefs(obj); f != nil {
		return r.fail(ctx, obj, f)
	}
	src, f := r.source(ctx, obj)
	if f != nil {
		return r.fail(ctx, obj, f)
	}
	if f := r.checkDependencies(ctx, obj, src.Revision); f != nil {
		return r.fail(ctx, obj, f)
	}
	obj.Status.LastAttemptedRevision = src.Revision
	if !appliedAt(obj, src.Revision) {
		r.markProgress(ctx, obj, base, "applying revision "+src.Revision)
	}
	vars, red, f := r.variables(ctx, obj)
	if f != nil {
		return r.fail(ctx, obj, f)
	}
	keys, f := r.decryptionKeys(ctx, obj)
	if f != nil {
		return r.fail(ctx, obj, f)
	}
	objs, f := r.render(ctx, obj, src, renderInput{vars: vars, keys: keys}, red)
	if f != nil {
		return r.fail(ctx, obj, f)
	}
	red.AddSecrets(objs...)
	mgr, err := r.applier(obj)
	if err != nil {
		return r.fail(ctx, obj, stalled(v1alpha1.ReasonInvalidSpec, err.Error()))
	}
	// One deadline for apply, prune and health checks together.
	ctx, cancel := context.WithTimeout(ctx, obj.ApplyTimeout())
	defer cancel()
	if f := r.recordIntent(ctx, obj, base, objs); f != nil {
		return r.fail(ctx, obj, f)
	}
	changes, f := r.applyIfNeeded(ctx, obj, src.Revision, mgr, objs, red)
	if f != nil {
		return r.fail(ctx, obj, f)
	}
	if f := r.wait(ctx, obj, mgr, objs, red); f != nil {
		return r.fail(ctx, obj, f)
	}
	obj.Status.LastAppliedRevision = src.Revision
	msg := fmt.Sprintf("applied revision %s: %s", src.Revision, summary(obj.Status.LastChange))
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded, msg)
	if recovering || (changes.Count(apply.Unchanged) != len(changes.Changes) && len(changes.Changes) > 0) {
		r.Events.Eventf(obj, nil, corev1.EventTypeNormal, v1alpha1.ReasonSucceeded, "Apply", "%s", msg)
	}
	return metrics.ResultSuccess, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// applyIfNeeded applies unless the drift watch vouches that the objects are
// as this render applied them. A re-apply of a revision already applied
// that changes nothing (the safety interval, an agent restart) keeps
// lastChange and so the Ready message: they tell what applying the
// revision did, which a no-op re-apply would hide behind "0 configured".
func (r *StackReconciler) applyIfNeeded(ctx context.Context, obj *v1alpha1.Stack, revision string, mgr *apply.Manager, objs []*unstructured.Unstructured, red *redact.Redactor) (apply.ChangeSet, *failure) {
	digest := renderDigest(objs)
	if r.upToDate(obj, revision, digest) {
		return apply.ChangeSet{}, nil
	}
	prev, reapply := obj.Status.LastChange, appliedAt(obj, revision)
	changes, f := r.applyTracked(ctx, obj, mgr, objs, digest, red)
	if f == nil && reapply && prev != nil && !changedSomething(changes) {
		obj.Status.LastChange = prev
	}
	return changes, f
}

// appliedAt reports whether the Stack's status records revision as applied
// for its current spec.
func appliedAt(obj *v1alpha1.Stack, revision string) bool {
	return obj.Status.LastAppliedRevision == revision && obj.Status.ObservedGeneration == obj.Generation
}

// changedSomething reports whether an apply created, changed or deleted
// any object.
func changedSomething(cs apply.ChangeSet) bool {
	return len(cs.Objects(apply.Created, apply.Configured, apply.Recreated, apply.Deleted)) > 0
}

// applyTracked applies with the drift watch paused for the Stack, then
// hands it the new objects.
func (r *StackReconciler) applyTracked(ctx context.Context, obj *v1alpha1.Stack, mgr *apply.Manager, objs []*unstructured.Unstructured, digest string, red *redact.Redactor) (apply.ChangeSet, *failure) {
	key := client.ObjectKeyFromObject(obj)
	if r.Drift != nil {
		r.Drift.Begin(key)
	}
	changes, f := r.apply(ctx, obj, mgr, objs, red)
	if f != nil {
		r.amendWatch(ctx, obj, objs, changes)
		return changes, f
	}
	r.track(ctx, obj, objs, changes, digest)
	return changes, nil
}

// stopWatching ends drift handling for the Stack until its next apply.
func (r *StackReconciler) stopWatching(obj *v1alpha1.Stack) {
	key := client.ObjectKeyFromObject(obj)
	if r.Drift != nil {
		r.Drift.Forget(key)
	}
	r.renders.forget(key)
	r.built.forget(key)
}

// failure ends a reconcile with a reason and a message already redacted.
type failure struct {
	reason  string
	message string
	stalled bool
	// requeueNow retries at once: the failure only means newer work arrived.
	requeueNow bool
	// waiting is no failure: other work must finish first, and a watch
	// requeues the Stack when it has.
	waiting bool
	// unchanged leaves the Stack's conditions as they are: the reconcile
	// cannot go on yet, but nothing changed for the Stack's objects (an
	// agent that restarted refetches the revision they are at).
	unchanged bool
}

func failed(reason, message string) *failure { return &failure{reason: reason, message: message} }
func stalled(reason, message string) *failure {
	return &failure{reason: reason, message: message, stalled: true}
}

func (r *StackReconciler) fail(ctx context.Context, obj *v1alpha1.Stack, f *failure) (string, ctrl.Result) {
	if f.requeueNow {
		r.Events.Eventf(obj, nil, corev1.EventTypeNormal, f.reason, "Reconcile", "%s", f.message)
		conditions.MarkReconciling(obj, f.message)
		return metrics.ResultFailure, ctrl.Result{RequeueAfter: time.Millisecond}
	}
	if f.unchanged {
		log.FromContext(ctx).V(1).Info("reconcile deferred", "reason", f.reason, "message", f.message)
		return metrics.ResultWaiting, ctrl.Result{RequeueAfter: jitter(obj.RetryAfter())}
	}
	if f.waiting {
		conditions.MarkWaiting(obj, f.reason, f.message)
		return metrics.ResultWaiting, ctrl.Result{RequeueAfter: jitter(obj.RetryAfter())}
	}
	log.FromContext(ctx).Info("reconcile failed", "reason", f.reason, "message", f.message)
	if !failedAlready(obj, f.reason, f.message) {
		// A retry that fails the same way adds no event; status says it still fails.
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, f.reason, "Reconcile", "%s", f.message)
	}
	if f.stalled {
		conditions.MarkStalled(obj, f.reason, f.message)
		return metrics.ResultStalled, ctrl.Result{}
	}
	conditions.MarkFailed(obj, f.reason, f.message)
	return metrics.ResultFailure, ctrl.Result{RequeueAfter: jitter(obj.RetryAfter())}
}

// markProgress shows Reconciling=True while a new revision is applied; what
// it wrote becomes base, so the final patch undoes it.
func (r *StackReconciler) markProgress(ctx context.Context, obj, base *v1alpha1.Stack, msg string) {
	conditions.MarkReconciling(obj, msg)
	// Patch a copy: the response would overwrite status fields set in
	// memory but not yet written.
	written := obj.DeepCopy()
	written.Status = *base.Status.DeepCopy()
	written.Status.Conditions = obj.Status.Conditions
	if err := r.patchStatus(ctx, base, written.DeepCopy()); err != nil {
		log.FromContext(ctx).V(1).Info("status patch failed", "error", err.Error())
		return
	}
	base.Status = *written.Status.DeepCopy()
}

// recordIntent writes the objects the apply may create into the inventory
// before it creates any: an apply interrupted midway (the agent stopped,
// the API server gone) leaves nothing that no inventory lists, so nothing
// is orphaned. The final status patch narrows the inventory to what was
// written. A Stack whose intent cannot be recorded is not applied.
func (r *StackReconciler) recordIntent(ctx context.Context, obj, base *v1alpha1.Stack, objs []*unstructured.Unstructured) *failure {
	old := stackspec.FromInventory(obj.Status.Inventory)
	current := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		current = append(current, apply.MetadataOf(o))
	}
	if len(apply.Diff(current, old)) == 0 {
		return nil // every object is listed already
	}
	written := obj.DeepCopy()
	written.Status = *base.Status.DeepCopy()
	written.Status.Inventory = stackspec.ToInventory(union(old, current))
	if err := r.patchStatus(ctx, base, written.DeepCopy()); err != nil {
		return failed(v1alpha1.ReasonApplyFailed, "recording the objects about to be applied in the inventory failed, nothing was applied: "+err.Error())
	}
	// obj keeps the inventory before the intent: the apply and the final
	// patch work from it.
	base.Status = *written.Status.DeepCopy()
	return nil
}

// sourceArtifact is the artifact a Stack renders from.
type sourceArtifact struct {
	Revision string
	Digest   string
	Dir      string
}

func (r *StackReconciler) source(ctx context.Context, obj *v1alpha1.Stack) (*sourceArtifact, *failure) {
	ns, name := obj.SourceKey()
	var repo v1alpha1.GitRepository
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &repo); err != nil {
		return nil, failed(v1alpha1.ReasonSourceNotReady, fmt.Sprintf("GitRepository %s/%s: %s", ns, name, stackspec.ReasonText(err)))
	}
	a := repo.Status.Artifact
	if a != nil && !artifactKey(&repo).Holds(a.Path) {
		return nil, failed(v1alpha1.ReasonSourceNotReady, fmt.Sprintf("GitRepository %s/%s: its status names an artifact that is not its own (%s): refusing it until the GitRepository stores its own", ns, name, a.Path))
	}
	if a != nil && !r.Store.Exists(a.Path) && appliedAt(obj, a.Revision) && conditions.IsReady(obj) {
		// The Stack applied this revision, but this agent has not stored it:
		// it started with an empty data directory (or another replica
		// fetched it) and the GitRepository is fetching it again. Nothing
		// is wrong with the Stack's objects: keep its status and wait for
		// the artifact (storing it again requeues the Stack).
		return nil, &failure{reason: v1alpha1.ReasonSourceNotReady, message: fmt.Sprintf("GitRepository %s/%s: revision %s is not stored by this agent yet", ns, name, a.Revision), unchanged: true}
	}
	if a == nil || !r.Store.Exists(a.Path) {
		return nil, failed(v1alpha1.ReasonSourceNotReady, fmt.Sprintf("GitRepository %s/%s has no artifact yet", ns, name))
	}
	return &sourceArtifact{Revision: a.Revision, Digest: a.Digest, Dir: filepath.Join(r.Store.Root(), a.Path)}, nil
}

func (r *StackReconciler) render(ctx context.Context, obj *v1alpha1.Stack, src *sourceArtifact, in renderInput, red *redact.Redactor) ([]*unstructured.Unstructured, *failure) {
	key, inputs := client.ObjectKeyFromObject(obj), renderInputs(obj, src, in.vars)+in.keys.Digest()
	objs, ok := r.built.get(key, inputs)
	if !ok {
		var f *failure
		if objs, f = r.build(ctx, obj, src, in, red); f != nil {
			return nil, f
		}
		r.built.set(key, inputs, objs)
	}
	if err := stackspec.CheckEmptyRender(obj, len(objs), src.Revision); err != nil {
		return nil, stalled(v1alpha1.ReasonBuildFailed, err.Error())
	}
	return objs, nil
}

// build renders the Stack with kustomize and substitution.
func (r *StackReconciler) build(ctx context.Context, obj *v1alpha1.Stack, src *sourceArtifact, in renderInput, red *redact.Redactor) ([]*unstructured.Unstructured, *failure) {
	ctx, cancel := context.WithTimeout(ctx, obj.ApplyTimeout())
	defer cancel()
	r.Metrics.Render(obj.Namespace, obj.Name)
	opts := stackspec.RenderOptions(obj, src.Dir, in.vars)
	stackspec.SetDecryption(&opts, in.keys)
	objs, err := render.Build(ctx, opts)
	if errors.Is(err, render.ErrDecryption) {
		return nil, decryptionFailure(obj, src.Revision, red.Error(err), err)
	}
	if err != nil {
		return nil, failed(v1alpha1.ReasonBuildFailed, "building "+stackspec.PathOrRoot(obj.Spec.Path)+" at "+src.Revision+" failed, nothing was applied: "+red.Error(err))
	}
	return objs, nil
}

// finalize prunes what the Stack owns when it prunes, then lets it go.
func (r *StackReconciler) finalize(ctx context.Context, obj *v1alpha1.Stack) error {
	r.stopWatching(obj)
	if err := r.cleanUp(ctx, obj); err != nil {
		if !r.releaseAnyway(ctx, obj, err) {
			return err
		}
	}
	return removeFinalizer(ctx, r.Client, &r.written, obj)
}

// cleanUp prunes the Stack's inventory when it prunes, and otherwise
// releases it (the objects lose the owner labels, so another Stack may
// adopt them).
func (r *StackReconciler) cleanUp(ctx context.Context, obj *v1alpha1.Stack) error {
	if len(obj.Status.Inventory) == 0 {
		return nil
	}
	mgr, err := r.applier(obj)
	if err != nil {
		return err
	}
	inventory := stackspec.FromInventory(obj.Status.Inventory)
	if obj.Spec.Prune && !obj.Spec.Suspend {
		if _, err := mgr.Prune(ctx, inventory); err != nil {
			return fmt.Errorf("pruning the objects of deleted Stack %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		return nil
	}
	if err := mgr.Release(ctx, inventory); err != nil {
		return fmt.Errorf("releasing the objects of deleted Stack %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	return nil
}

// releaseAnyway decides whether a Stack whose clean-up failed may still
// go: only when its namespace is being deleted and the clean-up was
// refused (its service account or the account's RoleBinding went first).
// Nothing can grant the access back then, and holding the finalizer would
// leave the namespace Terminating forever. It says what was left.
func (r *StackReconciler) releaseAnyway(ctx context.Context, obj *v1alpha1.Stack, err error) bool {
	if !apierrors.IsForbidden(err) && !apierrors.IsUnauthorized(err) {
		return false
	}
	var ns corev1.Namespace
	if getErr := r.Get(ctx, client.ObjectKey{Name: obj.Namespace}, &ns); getErr != nil || ns.DeletionTimestamp.IsZero() {
		return false
	}
	msg := fmt.Sprintf("namespace %s is being deleted and the Stack may no longer clean up (%v); releasing it and leaving %d objects it owned: %s",
		obj.Namespace, err, len(obj.Status.Inventory), inventorySample(obj.Status.Inventory, 10))
	log.FromContext(ctx).Info(msg)
	// The namespace takes no new events; the log above keeps the record.
	r.Events.Eventf(obj, nil, corev1.EventTypeWarning, "FinalizerReleased", "Finalize", "%s", msg)
	return true
}

// inventorySample lists up to n inventory entries and counts the rest.
func inventorySample(inv []v1alpha1.InventoryEntry, n int) string {
	var parts []string
	for _, m := range stackspec.FromInventory(inv[:min(n, len(inv))]) {
		parts = append(parts, m.String())
	}
	if len(inv) > n {
		parts = append(parts, fmt.Sprintf("and %d more", len(inv)-n))
	}
	return strings.Join(parts, ", ")
}

// patchStatus writes what changed since before; the next reconcile of obj
// reads it back (see writtenVersions).
func (r *StackReconciler) patchStatus(ctx context.Context, before, obj *v1alpha1.Stack) error {
	return patchStatus(ctx, r.Client, &r.written, before, obj, func(o *v1alpha1.Stack) v1alpha1.StackStatus { return o.Status })
}
