package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/source/artifact"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// gitRepositorySecretIndex indexes GitRepositories by the Secret they use.
const gitRepositorySecretIndex = ".spec.secretRef.name"

// GitRepositoryReconciler fetches GitRepositories and stores their artifacts.
type GitRepositoryReconciler struct {
	client.Client
	// Store keeps artifacts under the agent's data directory.
	Store *artifact.Store
	// CacheDir holds one bare clone per GitRepository for incremental fetches.
	CacheDir string
	// Events records Kubernetes events on the GitRepository.
	Events events.EventRecorder
	// Metrics records reconcile outcomes; nil records nothing.
	Metrics *metrics.Recorder
	// AllowFileURLs accepts file:// URLs (tests, single-tenant setups).
	AllowFileURLs bool
	// MaxFetchSize caps the bytes one fetch may bring; 0 means
	// git.DefaultMaxFetchSize.
	MaxFetchSize int64

	written writtenVersions
}

// SetupWithManager registers the reconciler. A reconcile runs on a change of
// spec, of the reconcile-requested-at annotation, or of a referenced Secret.
func (r *GitRepositoryReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.GitRepository{}, gitRepositorySecretIndex,
		func(o client.Object) []string {
			if ref := o.(*v1alpha1.GitRepository).Spec.SecretRef; ref != nil {
				return []string{ref.Name}
			}
			return nil
		})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.GitRepository{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{}))).
		// Metadata only: a change is all that matters, and the agent keeps no
		// Secret values in memory. Secrets are read live when used.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.requestsForSecret), builder.OnlyMetadata).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

func (r *GitRepositoryReconciler) requestsForSecret(ctx context.Context, o client.Object) []ctrl.Request {
	var list v1alpha1.GitRepositoryList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{gitRepositorySecretIndex: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, g := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}})
	}
	return reqs
}

// +kubebuilder:rbac:groups=flotilla.io,resources=gitrepositories,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=gitrepositories/status;gitrepositories/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one GitRepository's artifact up to date.
func (r *GitRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.GitRepository{}
	if err := readFresh(ctx, r.Client, &r.written, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	start, before := time.Now(), obj.DeepCopy()
	outcome := metrics.ResultSuccess
	defer func() {
		r.Metrics.Observe(v1alpha1.GitRepositoryKind, outcome, start)
		if obj.DeletionTimestamp.IsZero() {
			finishStatus(obj)
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
	outcome, result = r.reconcileSource(ctx, obj, before)
	return result, nil
}

// reconcileSource fetches, stores and garbage-collects; it returns the
// metric outcome and when to come back.
func (r *GitRepositoryReconciler) reconcileSource(ctx context.Context, obj, base *v1alpha1.GitRepository) (string, ctrl.Result) {
	if obj.Status.ObservedGeneration != obj.Generation || obj.Status.Artifact == nil {
		// What this patch writes becomes base, so the final patch undoes it.
		conditions.MarkReconciling(obj, "fetching "+describeRef(obj))
		if err := r.patchStatus(ctx, base, obj.DeepCopy()); err != nil {
			log.FromContext(ctx).V(1).Info("status patch failed", "error", err.Error())
		} else {
			base.Status = *obj.Status.DeepCopy()
		}
	}
	if !r.AllowFileURLs && strings.HasPrefix(strings.ToLower(obj.Spec.URL), "file:") {
		return r.fail(ctx, obj, errFileURL, redact.New())
	}
	creds, err := r.credentials(ctx, obj)
	if err != nil {
		return r.fail(ctx, obj, err, redact.New())
	}
	red := redact.New(creds.SecretValues()...)
	fetchCtx, cancel := context.WithTimeout(ctx, obj.FetchTimeout().Duration)
	defer cancel()
	res, err := git.Fetch(fetchCtx, git.FetchOptions{
		URL:         obj.Spec.URL,
		Ref:         toGitRef(obj.EffectiveRef()),
		Credentials: creds,
		CacheDir:    filepath.Join(r.CacheDir, obj.Namespace, obj.Name),
		MaxSize:     r.MaxFetchSize,
	})
	if err != nil {
		return r.fail(ctx, obj, err, red)
	}
	if err := r.storeArtifact(ctx, obj, res); err != nil {
		return r.fail(ctx, obj, err, red)
	}
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded, "stored artifact for revision "+res.Revision)
	return metrics.ResultSuccess, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// storeArtifact writes the fetched tree unless the same revision is stored
// for the current spec already, then removes older artifacts.
func (r *GitRepositoryReconciler) storeArtifact(ctx context.Context, obj *v1alpha1.GitRepository, res *git.Result) error {
	cur := obj.Status.Artifact
	// Ready at this generation means the stored tree was written with the
	// current ignore rules; otherwise write again (the same content lands in
	// the same place).
	if cur != nil && cur.Revision == res.Revision && conditions.IsReady(obj) && r.Store.Exists(cur.Path) {
		return nil
	}
	key := artifactKey(obj)
	ignore := artifact.NewIgnore(ptrValue(obj.Spec.Ignore))
	// The write has the fetch's deadline: a tree that takes longer to store
	// fails this attempt, and the last stored artifact stays in use.
	ctx, cancel := context.WithTimeout(ctx, obj.FetchTimeout().Duration)
	defer cancel()
	stored, err := r.Store.Write(ctx, key, res.Revision, res, ignore)
	if err != nil {
		return &storeError{revision: res.Revision, err: err}
	}
	now := metav1.Now()
	obj.Status.Artifact = &v1alpha1.Artifact{
		Revision: res.Revision, Digest: stored.Digest, Path: stored.Path, Size: stored.Size, LastUpdateTime: now,
	}
	r.Events.Eventf(obj, nil, corev1.EventTypeNormal, "NewArtifact", "Fetch", "stored artifact for revision %s", res.Revision)
	if len(stored.Skipped) > 0 {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, "SymlinkSkipped", "Fetch",
			"left out symlinks that point outside the repository: %v", stored.Skipped)
	}
	if removed, err := r.Store.GC(key, stored.Path); err != nil {
		log.FromContext(ctx).Error(err, "artifact garbage collection failed", "removed", removed)
	}
	return nil
}

// fail records a failed reconcile; the last artifact stays in status.
func (r *GitRepositoryReconciler) fail(ctx context.Context, obj *v1alpha1.GitRepository, err error, red *redact.Redactor) (string, ctrl.Result) {
	reason, stalled := failureReason(err)
	msg := strings.Join(strings.Fields(red.Error(err)), " ")
	if hint := failureHint(obj, err); hint != "" {
		msg += ": " + hint
	}
	if obj.Status.Artifact != nil {
		msg += "; still serving revision " + obj.Status.Artifact.Revision
	}
	log.FromContext(ctx).Info("reconcile failed", "reason", reason, "message", msg)
	if !failedAlready(obj, reason, msg) {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Fetch", "%s", msg)
	}
	if stalled {
		conditions.MarkStalled(obj, reason, msg)
		return metrics.ResultStalled, ctrl.Result{}
	}
	conditions.MarkFailed(obj, reason, msg)
	return metrics.ResultFailure, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// credentials reads the Secret named by spec.secretRef.
func (r *GitRepositoryReconciler) credentials(ctx context.Context, obj *v1alpha1.GitRepository) (git.Credentials, error) {
	if obj.Spec.SecretRef == nil {
		return git.Credentials{}, nil
	}
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.SecretRef.Name}
	if err := r.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return git.Credentials{}, &secretError{name: key.String()}
		}
		return git.Credentials{}, fmt.Errorf("reading secret %s: %w", key, err)
	}
	return git.CredentialsFromSecret(secret.Data), nil
}

// finalize removes the artifacts and the cache, then the finalizer.
func (r *GitRepositoryReconciler) finalize(ctx context.Context, obj *v1alpha1.GitRepository) error {
	cache := filepath.Join(r.CacheDir, obj.Namespace, obj.Name)
	if err := errors.Join(r.Store.Remove(artifactKey(obj)), os.RemoveAll(cache), os.RemoveAll(cache+".full")); err != nil {
		return err
	}
	return removeFinalizer(ctx, r.Client, &r.written, obj)
}

// finishStatus records what this reconcile handled.
func finishStatus(obj *v1alpha1.GitRepository) {
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.URL = redact.URL(obj.Spec.URL)
	obj.Status.LastHandledReconcileAt = obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
}

// patchStatus writes status when it changed since before, so a reconcile
// with nothing new makes no write; the next reconcile reads it back (see
// writtenVersions).
func (r *GitRepositoryReconciler) patchStatus(ctx context.Context, before, obj *v1alpha1.GitRepository) error {
	return patchStatus(ctx, r.Client, &r.written, before, obj, func(o *v1alpha1.GitRepository) v1alpha1.GitRepositoryStatus { return o.Status })
}

func artifactKey(obj *v1alpha1.GitRepository) artifact.Key {
	return artifact.Key{Kind: v1alpha1.GitRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
}

func toGitRef(r v1alpha1.GitRepositoryRef) git.Reference {
	return git.Reference{Branch: r.Branch, Tag: r.Tag, SemVer: r.SemVer, Commit: r.Commit}
}

func describeRef(obj *v1alpha1.GitRepository) string {
	return toGitRef(obj.EffectiveRef()).String() + " from " + redact.URL(obj.Spec.URL)
}

// jitter spreads polls of many objects: a random duration in [0.9d, d], so
// a poll never comes later than the interval promises.
func jitter(d time.Duration) time.Duration {
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}
