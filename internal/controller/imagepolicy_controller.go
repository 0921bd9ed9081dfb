package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/image/policy"
	"github.com/flotilla-io/flotilla/internal/image/tagstore"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// imagePolicyRepositoryIndex indexes ImagePolicies by their ImageRepository.
const imagePolicyRepositoryIndex = ".spec.imageRepositoryRef.name"

// ImagePolicyReconciler chooses the newest tag of an ImageRepository's last
// scan by each ImagePolicy.
type ImagePolicyReconciler struct {
	client.Client
	// Tags holds the scans the ImageRepository controller stored.
	Tags *tagstore.Store
	// Events records Kubernetes events on the ImagePolicy.
	Events events.EventRecorder
	// Metrics records reconcile outcomes; nil records nothing.
	Metrics *metrics.Recorder
	// NewRegistry returns the registry client for digest lookups; nil is
	// registry.New.
	NewRegistry NewRegistryFunc

	written writtenVersions
}

// SetupWithManager registers the reconciler. A reconcile runs on a change
// of spec, of the reconcile-requested-at annotation, or of the
// ImageRepository (a new scan).
func (r *ImagePolicyReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.ImagePolicy{}, imagePolicyRepositoryIndex,
		func(o client.Object) []string {
			return []string{o.(*v1alpha1.ImagePolicy).Spec.ImageRepositoryRef.Name}
		})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ImagePolicy{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{}))).
		Watches(&v1alpha1.ImageRepository{}, handler.EnqueueRequestsFromMapFunc(r.requestsForRepository),
			builder.WithPredicates(scanChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

func (r *ImagePolicyReconciler) requestsForRepository(ctx context.Context, o client.Object) []ctrl.Request {
	var list v1alpha1.ImagePolicyList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{imagePolicyRepositoryIndex: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, p := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return reqs
}

// scanChangedPredicate passes an ImageRepository's creation, deletion, and
// updates that record a new scan (a new scan time, even with the same tags:
// an agent that took over may only now have them on its disk, and a digest
// reflected Always is looked up again) or change its Ready condition.
type scanChangedPredicate struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (scanChangedPredicate) Update(e event.UpdateEvent) bool {
	o, okOld := e.ObjectOld.(*v1alpha1.ImageRepository)
	n, okNew := e.ObjectNew.(*v1alpha1.ImageRepository)
	if !okOld || !okNew {
		return false
	}
	return !equality.Semantic.DeepEqual(o.Status.LastScanResult, n.Status.LastScanResult) ||
		conditions.IsReady(o) != conditions.IsReady(n)
}

// +kubebuilder:rbac:groups=flotilla.io,resources=imagepolicies,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=imagepolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=imagerepositories,verbs=get;list;watch

// Reconcile chooses one ImagePolicy's tag from its repository's last scan.
func (r *ImagePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.ImagePolicy{}
	if err := readFresh(ctx, r.Client, &r.written, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	start, before := time.Now(), obj.DeepCopy()
	outcome := metrics.ResultSuccess
	defer func() {
		r.Metrics.Observe(v1alpha1.ImagePolicyKind, outcome, start)
		if obj.DeletionTimestamp.IsZero() {
			obj.Status.ObservedGeneration = obj.Generation
			obj.Status.LastHandledReconcileAt = obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
			err = errors.Join(err, r.patchStatus(ctx, before, obj))
		}
	}()
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	outcome, result = r.choose(ctx, obj)
	return result, nil
}

// choice is what the steps of one reconcile found.
type choice struct {
	pol    *policy.Policy
	repo   *v1alpha1.ImageRepository
	scan   tagstore.Scan
	digest string
}

// choose runs the steps: parse the policy, read the scan, choose, look up
// the digest.
func (r *ImagePolicyReconciler) choose(ctx context.Context, obj *v1alpha1.ImagePolicy) (string, ctrl.Result) {
	var c choice
	var err error
	if c.pol, err = policy.New(obj.Spec); err != nil {
		return r.fail(ctx, obj, err, v1alpha1.ReasonInvalidSpec, true)
	}
	c.pol = c.pol.Quarantine(quarantined(obj))
	c.digest = policyDigest(obj.Spec)
	if c.repo, c.scan, err = r.readScan(ctx, obj); err != nil {
		return r.fail(ctx, obj, err, v1alpha1.ReasonImageRepositoryNotReady, false)
	}
	ex := c.pol.Choose(c.scan.Tags)
	tag, why := r.keepOrMove(obj, c, ex)
	obj.Status.Explanation = explanation(ex, c.scan.Revision, why)
	if tag == "" {
		return r.fail(ctx, obj, errors.New(why), v1alpha1.ReasonNoMatchingTag, false)
	}
	ref := v1alpha1.ImageRef{Name: imageName(c.repo), Tag: tag}
	if ref.Digest, err = r.digest(ctx, obj, c.repo, ref); err != nil {
		reason, _ := imageFailureReason(err)
		return r.fail(ctx, obj, err, reason, false)
	}
	r.setLatest(obj, ref, c.digest)
	conditions.MarkReady(obj, v1alpha1.ReasonSucceeded, fmt.Sprintf("latest image tag %s: %s", tag, ex.Summary()))
	var res ctrl.Result
	if obj.Spec.DigestReflectionPolicy == v1alpha1.ReflectAlways {
		res.RequeueAfter = jitter(c.repo.Spec.Interval.Duration)
	}
	return metrics.ResultSuccess, res
}

// readScan reads the ImageRepository and its stored scan.
func (r *ImagePolicyReconciler) readScan(ctx context.Context, obj *v1alpha1.ImagePolicy) (*v1alpha1.ImageRepository, tagstore.Scan, error) {
	repo := &v1alpha1.ImageRepository{}
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.ImageRepositoryRef.Name}
	if err := r.Get(ctx, key, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, tagstore.Scan{}, fmt.Errorf("ImageRepository %s (spec.imageRepositoryRef) not found", key)
		}
		return nil, tagstore.Scan{}, fmt.Errorf("reading ImageRepository %s: %w", key, err)
	}
	scan, err := r.Tags.Read(tagKey(repo))
	if err != nil {
		return nil, tagstore.Scan{}, fmt.Errorf("ImageRepository %s has no scan on this agent yet: %w", key, err)
	}
	return repo, scan, nil
}

// keepOrMove applies the never-backwards rule: under the same policy, the
// choice stays when the scan's best orders lower than the current tag or
// when the scan has no candidate (a partial or empty scan, a restart).
// It returns the tag to record (empty for none) and why.
func (r *ImagePolicyReconciler) keepOrMove(obj *v1alpha1.ImagePolicy, c choice, ex policy.Explanation) (string, string) {
	cur := obj.Status.LatestRef
	samePolicy := cur != nil && obj.Status.PolicyDigest == c.digest
	if cur != nil && c.pol.Quarantined(cur.Tag) != "" {
		return movedBack(obj, cur.Tag, ex)
	}
	switch {
	case !samePolicy && ex.Winner == "":
		return "", ex.Why
	case !samePolicy:
		return ex.Winner, ex.Why
	case ex.Winner == "":
		return cur.Tag, fmt.Sprintf("kept %s: %s, and a choice never moves backwards unless the policy changes", cur.Tag, ex.Why)
	}
	if cmp, ok := c.pol.Compare(ex.Winner, cur.Tag); ok && cmp < 0 {
		return cur.Tag, fmt.Sprintf("kept %s: the scan's best, %s, orders lower, and a choice never moves backwards unless the policy changes", cur.Tag, ex.Winner)
	}
	return ex.Winner, ex.Why
}

// quarantined maps the tags of status.quarantinedTags to why the policy
// leaves them out.
func quarantined(obj *v1alpha1.ImagePolicy) map[string]string {
	q := make(map[string]string, len(obj.Status.QuarantinedTags))
	for _, t := range obj.Status.QuarantinedTags {
		q[t.Tag] = "quarantined by Canary " + t.Canary
	}
	return q
}

// movedBack is the choice when the current tag is quarantined: the best
// remaining tag, even an older one (quarantine is the one exception to
// never moving backwards), or none.
func movedBack(obj *v1alpha1.ImagePolicy, tag string, ex policy.Explanation) (string, string) {
	why := tag + " is quarantined"
	for _, q := range obj.Status.QuarantinedTags {
		if q.Tag == tag {
			why += " by Canary " + q.Canary
			if q.Reason != "" {
				why += " (" + q.Reason + ")"
			}
		}
	}
	if ex.Winner == "" {
		return "", why + ", and no other tag is a candidate: " + ex.Why
	}
	return ex.Winner, why + "; moved back to " + ex.Winner + ": " + ex.Why
}

// digest looks the chosen tag's digest up as spec.digestReflectionPolicy
// says: never, once per tag, or on every reconcile.
func (r *ImagePolicyReconciler) digest(ctx context.Context, obj *v1alpha1.ImagePolicy, repo *v1alpha1.ImageRepository, ref v1alpha1.ImageRef) (string, error) {
	cur := obj.Status.LatestRef
	switch obj.Spec.DigestReflectionPolicy {
	case v1alpha1.ReflectIfNotPresent:
		if cur != nil && cur.Tag == ref.Tag && cur.Name == ref.Name && cur.Digest != "" {
			return cur.Digest, nil
		}
	case v1alpha1.ReflectAlways:
	default:
		return "", nil
	}
	lister, red, err := registryAccess(ctx, r.Client, repo, r.NewRegistry)
	if err == nil {
		lookupCtx, cancel := context.WithTimeout(ctx, repo.ScanTimeout())
		defer cancel()
		var d string
		if d, err = lister.Digest(lookupCtx, ref.Tag); err == nil {
			return d, nil
		}
	}
	return "", &digestError{red: red, err: err}
}

// digestError is a failed digest lookup; its message is redacted with the
// credentials read for it, and it unwraps to the registry's error kind.
type digestError struct {
	red *redact.Redactor
	err error
}

func (e *digestError) Error() string {
	return "looking up the digest (spec.digestReflectionPolicy): " + e.red.Error(e.err)
}

func (e *digestError) Unwrap() error { return e.err }

// setLatest records ref, moving the current one to observedPreviousRef
// when it changes, with an event.
func (r *ImagePolicyReconciler) setLatest(obj *v1alpha1.ImagePolicy, ref v1alpha1.ImageRef, digest string) {
	obj.Status.PolicyDigest = digest
	cur := obj.Status.LatestRef
	if cur != nil && *cur == ref {
		return
	}
	if cur != nil {
		prev := *cur
		obj.Status.ObservedPreviousRef = &prev
		r.Events.Eventf(obj, nil, corev1.EventTypeNormal, "NewImageTag", "Choose", "latest image tag changed from %s to %s", cur.String(), ref.String())
	} else {
		r.Events.Eventf(obj, nil, corev1.EventTypeNormal, "NewImageTag", "Choose", "latest image tag is %s", ref.String())
	}
	obj.Status.LatestRef = &ref
}

// fail records a failure; status.latestRef stays as it was.
func (r *ImagePolicyReconciler) fail(ctx context.Context, obj *v1alpha1.ImagePolicy, err error, reason string, stalled bool) (string, ctrl.Result) {
	msg := strings.Join(strings.Fields(redact.New().Error(err)), " ")
	if cur := obj.Status.LatestRef; cur != nil {
		msg += "; keeping " + cur.String()
	}
	log.FromContext(ctx).Info("choice failed", "reason", reason, "message", msg)
	if !failedAlready(obj, reason, msg) {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Choose", "%s", msg)
	}
	if stalled {
		conditions.MarkStalled(obj, reason, msg)
		return metrics.ResultStalled, ctrl.Result{}
	}
	conditions.MarkFailed(obj, reason, msg)
	return metrics.ResultFailure, ctrl.Result{}
}

// patchStatus writes status when it changed since before.
func (r *ImagePolicyReconciler) patchStatus(ctx context.Context, before, obj *v1alpha1.ImagePolicy) error {
	return patchStatus(ctx, r.Client, &r.written, before, obj, func(o *v1alpha1.ImagePolicy) v1alpha1.ImagePolicyStatus { return o.Status })
}

// policyDigest identifies what decides the order: policy, filterTags and
// the repository.
func policyDigest(spec v1alpha1.ImagePolicySpec) string {
	data, _ := json.Marshal(struct {
		Policy     v1alpha1.ImagePolicyChoice    `json:"policy"`
		FilterTags *v1alpha1.TagFilter           `json:"filterTags,omitempty"`
		Repository v1alpha1.LocalObjectReference `json:"imageRepositoryRef"`
	}{spec.Policy, spec.FilterTags, spec.ImageRepositoryRef})
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// imageName is the repository's image as the user wrote it (Flux writes
// spec.image into latestRef.name too).
func imageName(repo *v1alpha1.ImageRepository) string { return repo.Spec.Image }

// maxExamples is how many tags an excluded reason lists in status.
const maxExamples = 3

// explanation turns the engine's Explanation into status.
func explanation(ex policy.Explanation, revision, why string) *v1alpha1.PolicyExplanation {
	out := &v1alpha1.PolicyExplanation{
		Policy: ex.Policy, ScanRevision: revision, Considered: ex.Considered, CandidateCount: len(ex.Candidates),
		TopCandidates: ex.Candidates[:min(len(ex.Candidates), latestTagsShown)], Why: why,
	}
	for _, rc := range ex.ExcludedByReason() {
		e := v1alpha1.ExcludedTags{Reason: rc.Reason, Count: rc.Count}
		for _, x := range ex.Excluded {
			if x.Reason == rc.Reason && len(e.Examples) < maxExamples {
				e.Examples = append(e.Examples, x.Tag)
			}
		}
		out.Excluded = append(out.Excluded, e)
	}
	return out
}
