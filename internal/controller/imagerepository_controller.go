package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/image/registry"
	"github.com/flotilla-io/flotilla/internal/image/tagstore"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// imageRepositorySecretIndex indexes ImageRepositories by the Secrets they
// name (secretRef and certSecretRef).
const imageRepositorySecretIndex = ".spec.imageSecrets"

// latestTagsShown is how many tags status.lastScanResult.latestTags holds.
const latestTagsShown = 10

// ImageRepositoryReconciler scans registries for ImageRepositories and
// stores their tags.
type ImageRepositoryReconciler struct {
	client.Client
	// Tags keeps each repository's last scan.
	Tags *tagstore.Store
	// Events records Kubernetes events on the ImageRepository.
	Events events.EventRecorder
	// Metrics records reconcile outcomes and scans; nil records nothing.
	Metrics *metrics.Recorder
	// NewRegistry returns the registry client; nil is registry.New.
	NewRegistry NewRegistryFunc
	// Now is the clock scans are timed by; nil is time.Now.
	Now func() time.Time

	written writtenVersions
	// secretChanged holds the repositories whose Secrets changed since
	// their last scan: they scan at once, not at the next interval.
	secretChanged sync.Map
}

// SetupWithManager registers the reconciler. A reconcile runs on a change
// of spec, of the reconcile-requested-at annotation, or of a Secret named
// by secretRef or certSecretRef.
func (r *ImageRepositoryReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.ImageRepository{}, imageRepositorySecretIndex,
		func(o client.Object) []string {
			var names []string
			spec := o.(*v1alpha1.ImageRepository).Spec
			for _, ref := range []*v1alpha1.LocalObjectReference{spec.SecretRef, spec.CertSecretRef} {
				if ref != nil {
					names = append(names, ref.Name)
				}
			}
			return names
		})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ImageRepository{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.requestsForSecret), builder.OnlyMetadata).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

func (r *ImageRepositoryReconciler) requestsForSecret(ctx context.Context, o client.Object) []ctrl.Request {
	var list v1alpha1.ImageRepositoryList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{imageRepositorySecretIndex: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, g := range list.Items {
		key := types.NamespacedName{Namespace: g.Namespace, Name: g.Name}
		r.secretChanged.Store(key, true)
		reqs = append(reqs, ctrl.Request{NamespacedName: key})
	}
	return reqs
}

// +kubebuilder:rbac:groups=flotilla.io,resources=imagerepositories,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=imagerepositories/status;imagerepositories/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile scans one ImageRepository's registry when a scan is due.
func (r *ImageRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.ImageRepository{}
	if err := readFresh(ctx, r.Client, &r.written, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	start, before := time.Now(), obj.DeepCopy()
	outcome := metrics.ResultSuccess
	defer func() {
		r.Metrics.Observe(v1alpha1.ImageRepositoryKind, outcome, start)
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
		return ctrl.Result{}, nil
	}
	if wait := r.untilDue(obj); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	outcome, result = r.scan(ctx, obj, before)
	return result, nil
}

func (r *ImageRepositoryReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// untilDue returns how long until the next scan is due; zero when it is
// due now: the spec, a Secret or the reconcile request changed, the last
// scan failed, its tags are not on this agent's disk, or the interval
// passed.
func (r *ImageRepositoryReconciler) untilDue(obj *v1alpha1.ImageRepository) time.Duration {
	if _, changed := r.secretChanged.LoadAndDelete(client.ObjectKeyFromObject(obj)); changed {
		return 0
	}
	last := obj.Status.LastScanResult
	if last == nil || obj.Status.ObservedGeneration != obj.Generation || !conditions.IsReady(obj) ||
		obj.Status.LastHandledReconcileAt != obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation] {
		return 0
	}
	if scan, err := r.Tags.Read(tagKey(obj)); err != nil || scan.Revision != last.Revision {
		return 0
	}
	return max(0, last.ScanTime.Add(obj.Spec.Interval.Duration).Sub(r.now()))
}

// scan lists the tags, stores them and records the result; it returns the
// metric outcome and when to come back.
func (r *ImageRepositoryReconciler) scan(ctx context.Context, obj, base *v1alpha1.ImageRepository) (string, ctrl.Result) {
	if obj.Status.ObservedGeneration != obj.Generation || obj.Status.LastScanResult == nil {
		conditions.MarkReconciling(obj, "scanning "+redact.URL(obj.Spec.Image))
		if err := r.patchStatus(ctx, base, obj.DeepCopy()); err == nil {
			base.Status = *obj.Status.DeepCopy()
		}
	}
	start := time.Now()
	keep, err := registry.Excluder(obj.EffectiveExclusionList())
	if err != nil {
		return r.fail(ctx, obj, err, redact.New(), start)
	}
	lister, red, err := registryAccess(ctx, r.Client, obj, r.NewRegistry)
	if err != nil {
		return r.fail(ctx, obj, err, red, start)
	}
	scanCtx, cancel := context.WithTimeout(ctx, obj.ScanTimeout())
	defer cancel()
	tags, err := lister.ListTags(scanCtx, keep, obj.EffectiveMaxTags())
	if err != nil {
		return r.fail(ctx, obj, err, red, start)
	}
	stored, err := r.Tags.Write(tagKey(obj), tags)
	if err != nil {
		return r.fail(ctx, obj, err, red, start)
	}
	r.Metrics.ImageScan(obj.Namespace, obj.Name, metrics.ResultSuccess, start, len(tags))
	r.record(obj, lister, stored)
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded, fmt.Sprintf("%d tags found, revision %s", len(tags), stored.Revision))
	return metrics.ResultSuccess, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// record writes a successful scan into status, with an event when the tags
// changed.
func (r *ImageRepositoryReconciler) record(obj *v1alpha1.ImageRepository, lister registry.TagLister, stored tagstore.Scan) {
	prev := obj.Status.LastScanResult
	latest := slices.Clone(stored.Tags)
	slices.Reverse(latest)
	obj.Status.LastScanResult = &v1alpha1.ScanResult{
		Revision: stored.Revision, TagCount: len(stored.Tags), ScanTime: metav1.NewTime(r.now()),
		LatestTags: latest[:min(len(latest), latestTagsShown)],
	}
	obj.Status.ObservedExclusionList = slices.Clone(obj.EffectiveExclusionList())
	if named, ok := lister.(interface{ CanonicalName() string }); ok {
		obj.Status.CanonicalImageName = named.CanonicalName()
	}
	if prev == nil || prev.Revision != stored.Revision {
		r.Events.Eventf(obj, nil, corev1.EventTypeNormal, "NewTags", "Scan",
			"found %d tags of %s (revision %s)", len(stored.Tags), redact.URL(obj.Spec.Image), stored.Revision)
	}
}

// fail records a failed scan; the last scan's tags stay in use.
func (r *ImageRepositoryReconciler) fail(ctx context.Context, obj *v1alpha1.ImageRepository, err error, red *redact.Redactor, start time.Time) (string, ctrl.Result) {
	r.Metrics.ImageScan(obj.Namespace, obj.Name, metrics.ResultFailure, start, 0)
	reason, stalled := imageFailureReason(err)
	msg := strings.Join(strings.Fields(red.Error(err)), " ")
	if last := obj.Status.LastScanResult; last != nil {
		msg += fmt.Sprintf("; still serving the %d tags of the scan at %s", last.TagCount, last.ScanTime.UTC().Format(time.RFC3339))
	}
	log.FromContext(ctx).Info("scan failed", "reason", reason, "message", msg)
	if !failedAlready(obj, reason, msg) {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Scan", "%s", msg)
	}
	if stalled {
		conditions.MarkStalled(obj, reason, msg)
		return metrics.ResultStalled, ctrl.Result{}
	}
	conditions.MarkFailed(obj, reason, msg)
	return metrics.ResultFailure, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// finalize removes the stored tags, then the finalizer.
func (r *ImageRepositoryReconciler) finalize(ctx context.Context, obj *v1alpha1.ImageRepository) error {
	if err := r.Tags.Remove(tagKey(obj)); err != nil {
		return err
	}
	r.Metrics.ForgetImageRepository(obj.Namespace, obj.Name)
	return removeFinalizer(ctx, r.Client, &r.written, obj)
}

// patchStatus writes status when it changed since before.
func (r *ImageRepositoryReconciler) patchStatus(ctx context.Context, before, obj *v1alpha1.ImageRepository) error {
	return patchStatus(ctx, r.Client, &r.written, before, obj, func(o *v1alpha1.ImageRepository) v1alpha1.ImageRepositoryStatus { return o.Status })
}

// tagKey is where an ImageRepository's tags are stored: its own UID, so
// no other object (nor a recreated one) reads them.
func tagKey(obj *v1alpha1.ImageRepository) tagstore.Key {
	return tagstore.Key{Namespace: obj.Namespace, Name: obj.Name, UID: obj.UID}
}
