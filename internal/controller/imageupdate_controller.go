package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
	"github.com/flotilla-io/flotilla/internal/image/forge"
	"github.com/flotilla-io/flotilla/internal/image/gitwrite"
	"github.com/flotilla-io/flotilla/internal/image/setters"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// Reasons of ImageUpdate conditions and events (alerts match on them).
const (
	// ReasonPushed: a commit was pushed (the message names it).
	ReasonPushed = "Pushed"
	// ReasonUpToDate: the marked values already hold the chosen images.
	ReasonUpToDate = "UpToDate"
	// ReasonBatching: changes wait for spec.batch.window to end.
	ReasonBatching = "Batching"
	// ReasonMarkerSkipped: some markers were left alone (unknown policy, unsupported form).
	ReasonMarkerSkipped = "MarkerSkipped"
	// ReasonPushRejected: the branch kept moving; the push was retried and gave up.
	ReasonPushRejected = "PushRejected"
	// ReasonPullRequestFailed: the forge refused to open or update the pull request.
	ReasonPullRequestFailed = "PullRequestFailed"
	// ReasonPullRequestOpened: a pull request was opened or updated.
	ReasonPullRequestOpened = "PullRequestOpened"
	// ReasonPullRequestClosed: the base holds the chosen images; the pull request was closed.
	ReasonPullRequestClosed = "PullRequestClosed"
)

// ImageUpdateReconciler writes the images ImagePolicies chose into Git.
type ImageUpdateReconciler struct {
	client.Client
	// Writer serializes pushes per repository and branch in this agent.
	Writer *gitwrite.Writer
	// Events records Kubernetes events on the ImageUpdate.
	Events events.EventRecorder
	// Metrics records reconcile outcomes; nil records nothing.
	Metrics *metrics.Recorder
	written writtenVersions
}

// SetupWithManager registers the reconciler: it runs on a change of spec,
// a reconcile request, and a new status.latestRef of any ImagePolicy in the
// namespace that the update's selector matches.
func (r *ImageUpdateReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ImageUpdate{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{}))).
		Watches(&v1alpha1.ImagePolicy{}, handler.EnqueueRequestsFromMapFunc(r.requestsForPolicy),
			builder.WithPredicates(latestRefChanged{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// latestRefChanged passes ImagePolicy events that change status.latestRef.
type latestRefChanged struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (latestRefChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*v1alpha1.ImagePolicy)
	n, ok2 := e.ObjectNew.(*v1alpha1.ImagePolicy)
	return ok1 && ok2 && !equality.Semantic.DeepEqual(o.Status.LatestRef, n.Status.LatestRef) ||
		ok1 && ok2 && !equality.Semantic.DeepEqual(o.Labels, n.Labels)
}

func (r *ImageUpdateReconciler) requestsForPolicy(ctx context.Context, o client.Object) []ctrl.Request {
	var list v1alpha1.ImageUpdateList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, u := range list.Items {
		if sel, err := policySelector(&u); err == nil && sel.Matches(labels.Set(o.GetLabels())) {
			reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: u.Namespace, Name: u.Name}})
		}
	}
	return reqs
}

// +kubebuilder:rbac:groups=flotilla.io,resources=imageupdates,verbs=get;list;watch
// +kubebuilder:rbac:groups=flotilla.io,resources=imageupdates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=imagepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=flotilla.io,resources=gitrepositories,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile writes one ImageUpdate's policies' choices into Git.
func (r *ImageUpdateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.ImageUpdate{}
	if err := readFresh(ctx, r.Client, &r.written, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	start, before := time.Now(), obj.DeepCopy()
	outcome := metrics.ResultSuccess
	defer func() {
		r.Metrics.Observe(v1alpha1.ImageUpdateKind, outcome, start)
		obj.Status.ObservedGeneration = obj.Generation
		obj.Status.LastHandledReconcileAt = obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
		err = errors.Join(err, r.patchStatus(ctx, before, obj))
	}()
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if obj.Spec.Suspend {
		outcome = metrics.ResultSuspended
		conditions.MarkSuspended(obj)
		return ctrl.Result{}, nil
	}
	outcome, result = r.reconcileUpdate(ctx, obj)
	return result, nil
}

// imageUpdateRun is what one reconcile gathered before writing.
type imageUpdateRun struct {
	obj      *v1alpha1.ImageUpdate
	source   *v1alpha1.GitRepository
	creds    git.Credentials
	red      *redact.Redactor
	policies setters.Policies
	observed map[string]v1alpha1.ImageRef
	request  gitwrite.Request
	message  string
	forge    forge.Client
}

// reconcileUpdate runs the named steps; it returns the metric outcome and
// when to come back.
func (r *ImageUpdateReconciler) reconcileUpdate(ctx context.Context, obj *v1alpha1.ImageUpdate) (string, ctrl.Result) {
	run := &imageUpdateRun{obj: obj, red: redact.New()}
	for _, step := range []func(context.Context, *imageUpdateRun) error{r.readSource, r.readPolicies} {
		if err := step(ctx, run); err != nil {
			return r.failUpdate(ctx, run, err)
		}
	}
	if wait, skip := r.gate(run); skip {
		return metrics.ResultSuccess, ctrl.Result{RequeueAfter: wait}
	}
	for _, step := range []func(context.Context, *imageUpdateRun) error{r.prepareWrite, r.write} {
		if err := step(ctx, run); err != nil {
			return r.failUpdate(ctx, run, err)
		}
	}
	return metrics.ResultSuccess, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// readSource reads the GitRepository and its credentials.
func (r *ImageUpdateReconciler) readSource(ctx context.Context, run *imageUpdateRun) error {
	obj := run.obj
	ref := obj.Spec.SourceRef
	if ref.Namespace != "" && ref.Namespace != obj.Namespace {
		return &specError{field: "spec.sourceRef.namespace", msg: "must be the ImageUpdate's own namespace: pushing with another namespace's credentials is refused"}
	}
	src := &v1alpha1.GitRepository{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return &sourceNotFoundError{name: obj.Namespace + "/" + ref.Name}
		}
		return err
	}
	run.source = src
	if src.Spec.SecretRef == nil {
		return nil
	}
	data, err := r.secretData(ctx, obj.Namespace, src.Spec.SecretRef.Name)
	if err != nil {
		return err
	}
	run.creds = git.CredentialsFromSecret(data)
	run.red.Add(run.creds.SecretValues()...)
	return nil
}

func (r *ImageUpdateReconciler) secretData(ctx context.Context, ns, name string) (map[string][]byte, error) {
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: ns, Name: name}
	if err := r.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &secretError{name: key.String()}
		}
		return nil, fmt.Errorf("reading secret %s: %w", key, err)
	}
	return secret.Data, nil
}

// readPolicies lists the selected ImagePolicies and their choices.
func (r *ImageUpdateReconciler) readPolicies(ctx context.Context, run *imageUpdateRun) error {
	sel, err := policySelector(run.obj)
	if err != nil {
		return &specError{field: "spec.policySelector", msg: err.Error()}
	}
	var list v1alpha1.ImagePolicyList
	if err := r.List(ctx, &list, client.InNamespace(run.obj.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return err
	}
	run.policies, run.observed = setters.Policies{}, map[string]v1alpha1.ImageRef{}
	for _, p := range list.Items {
		if ref := p.Status.LatestRef; ref != nil && ref.Name != "" && ref.Tag != "" {
			run.policies[p.Namespace+":"+p.Name] = setters.Image{Name: ref.Name, Tag: ref.Tag, Digest: ref.Digest}
			run.observed[p.Name] = *ref
		}
	}
	return nil
}

func policySelector(obj *v1alpha1.ImageUpdate) (labels.Selector, error) {
	if obj.Spec.PolicySelector == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(obj.Spec.PolicySelector)
}

// gate decides whether to write now: not when nothing changed since the
// last successful run within the interval, and not before a batch window
// ends. It returns when to come back.
func (r *ImageUpdateReconciler) gate(run *imageUpdateRun) (time.Duration, bool) {
	obj, now := run.obj, time.Now()
	changed := !maps.Equal(obj.Status.ObservedPolicies, run.observed)
	requested := v1alpha1.ReconcileRequested(obj, obj.Status.LastHandledReconcileAt)
	if !changed && !requested && obj.Status.ObservedGeneration == obj.Generation && conditions.IsReady(obj) {
		if last := obj.Status.LastAutomationRunTime; last != nil && now.Sub(last.Time) < obj.Spec.Interval.Duration {
			return obj.Spec.Interval.Duration - now.Sub(last.Time), true
		}
	}
	if obj.Spec.Batch == nil || !changed || requested {
		return 0, false
	}
	if obj.Status.PendingSince == nil {
		obj.Status.PendingSince = &metav1.Time{Time: now}
	}
	end := obj.Status.PendingSince.Add(obj.Spec.Batch.Window.Duration)
	if now.Before(end) {
		conditions.MarkWaiting(obj, ReasonBatching, fmt.Sprintf("gathering changes of %d policies into one commit until %s", len(run.observed), end.UTC().Format(time.RFC3339)))
		return end.Sub(now), true
	}
	return 0, false
}

// prepareWrite builds the write request: branches, author, signing key,
// message template.
func (r *ImageUpdateReconciler) prepareWrite(ctx context.Context, run *imageUpdateRun) error {
	obj := run.obj
	branch, err := checkoutBranch(obj, run.source)
	if err != nil {
		return err
	}
	commit := obj.Spec.Git.Commit
	data := commitmsg.Data{AutomationObject: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}, Values: commit.MessageTemplateValues}
	// A template that cannot run stalls now; one that renders nothing without
	// changes may still work with them.
	if _, err := commitmsg.Render(commit.MessageTemplate, data); err != nil && !errors.Is(err, commitmsg.ErrEmpty) {
		return &specError{field: "spec.git.commit.messageTemplate", msg: err.Error()}
	}
	run.request = gitwrite.Request{
		URL: run.source.Spec.URL, Credentials: run.creds, Branch: branch, Timeout: run.source.FetchTimeout().Duration,
		AuthorName: commit.Author.Name, AuthorEmail: commit.Author.Email,
		Edit: func(ctx context.Context, dir string) (*setters.Report, error) {
			return setters.Apply(ctx, dir, obj.UpdatePath(), run.policies)
		},
		Message: func(changed setters.Result) (string, error) {
			data.Changed = changed
			msg, err := commitmsg.Render(commit.MessageTemplate, data)
			run.message = msg
			return msg, err
		},
	}
	if push := obj.Spec.Git.Push; push != nil {
		run.request.PushBranch, run.request.Refspec, run.request.PushOptions = push.Branch, push.Refspec, push.Options
	}
	if err := r.signingKey(ctx, run); err != nil {
		return err
	}
	return r.preparePullRequest(ctx, run)
}

// signingKey reads and decrypts spec.git.commit.signingKey, when set.
func (r *ImageUpdateReconciler) signingKey(ctx context.Context, run *imageUpdateRun) error {
	ref := run.obj.Spec.Git.Commit.SigningKey
	if ref == nil {
		return nil
	}
	secret, err := r.secretData(ctx, run.obj.Namespace, ref.SecretRef.Name)
	if err != nil {
		return err
	}
	const field = "spec.git.commit.signingKey.secretRef"
	name := run.obj.Namespace + "/" + ref.SecretRef.Name
	if len(secret[gitwrite.SigningKeyKey]) == 0 {
		return &secretKeyError{secret: name, key: gitwrite.SigningKeyKey, field: field}
	}
	run.red.Add(string(secret[gitwrite.SigningKeyKey]), string(secret[gitwrite.PassphraseKey]))
	if run.request.SigningKey, err = gitwrite.ParseSigningKey(secret[gitwrite.SigningKeyKey], secret[gitwrite.PassphraseKey]); err != nil {
		// Not a specError: fixing the Secret, not the spec, cures it, so
		// the update retries each interval.
		return &secretKeyError{secret: name, field: field, err: err}
	}
	return nil
}

// checkoutBranch is spec.git.checkout.ref.branch, else the GitRepository's.
func checkoutBranch(obj *v1alpha1.ImageUpdate, src *v1alpha1.GitRepository) (string, error) {
	ref, field := src.EffectiveRef(), "the GitRepository's spec.ref"
	if c := obj.Spec.Git.Checkout; c != nil {
		ref, field = c.Ref, "spec.git.checkout.ref"
	}
	if ref.Branch == "" {
		if ref.Tag != "" || ref.SemVer != "" || ref.Commit != "" {
			return "", &specError{field: field, msg: "names no branch; only a branch can be written to"}
		}
		return git.DefaultBranch, nil
	}
	return ref.Branch, nil
}

// write runs the writer and records the outcome.
func (r *ImageUpdateReconciler) write(ctx context.Context, run *imageUpdateRun) error {
	obj := run.obj
	res, err := r.Writer.Write(ctx, run.request)
	if err != nil {
		return err
	}
	now := metav1.Now()
	obj.Status.LastAutomationRunTime, obj.Status.ObservedPolicies = &now, run.observed
	obj.Status.ObservedSourceRevision, obj.Status.PendingSince = res.BaseRevision, nil
	r.reportWarnings(obj, res.Report)
	if res.Commit == "" {
		conditions.MarkReady(obj, ReasonUpToDate, "no change: the marked values hold the chosen images at "+res.BaseRevision)
		return r.finishPullRequest(ctx, run, res)
	}
	if res.Unchanged {
		conditions.MarkReady(obj, ReasonUpToDate, fmt.Sprintf("branch %s already holds the change as commit %s", pushTarget(run.request), res.Commit))
		return nil
	}
	obj.Status.LastPushCommit, obj.Status.LastPushTime = res.Commit, &now
	msg := fmt.Sprintf("pushed commit %s to branch %s (%d changes in %d files)", res.Commit, pushTarget(run.request),
		len(res.Report.Result.Changes()), len(res.Report.Result.FileChanges))
	conditions.MarkReady(obj, ReasonPushed, msg)
	r.Events.Eventf(obj, nil, corev1.EventTypeNormal, ReasonPushed, "Push", "%s", run.red.String(msg))
	if err := r.finishPullRequest(ctx, run, res); err != nil {
		return err
	}
	if pushTarget(run.request) == run.request.Branch {
		r.requestSourceReconcile(ctx, run.source)
	}
	return nil
}

func pushTarget(req gitwrite.Request) string {
	if req.PushBranch != "" || req.Refspec == "" {
		return cmpOrString(req.PushBranch, req.Branch)
	}
	return req.Refspec
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// reportWarnings records skipped markers in one Warning event.
func (r *ImageUpdateReconciler) reportWarnings(obj *v1alpha1.ImageUpdate, rep *setters.Report) {
	if rep == nil || len(rep.Warnings) == 0 {
		return
	}
	var lines []string
	for i, w := range rep.Warnings {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("and %d more", len(rep.Warnings)-10))
			break
		}
		lines = append(lines, w.String())
	}
	r.Events.Eventf(obj, nil, corev1.EventTypeWarning, ReasonMarkerSkipped, "Update",
		"%d markers left alone: %s", len(rep.Warnings), strings.Join(lines, "; "))
}

// requestSourceReconcile asks the GitRepository to fetch now, so the
// cluster picks the commit up at once.
func (r *ImageUpdateReconciler) requestSourceReconcile(ctx context.Context, src *v1alpha1.GitRepository) {
	patch := client.MergeFrom(src.DeepCopy())
	if src.Annotations == nil {
		src.Annotations = map[string]string{}
	}
	src.Annotations[v1alpha1.ReconcileRequestAnnotation] = v1alpha1.ReconcileRequestValue(time.Now())
	if err := r.Patch(ctx, src, patch); err != nil {
		log.FromContext(ctx).Info("could not request a reconcile of the GitRepository", "error", err.Error())
	}
}

// failUpdate records a failed run; misconfiguration stalls.
func (r *ImageUpdateReconciler) failUpdate(ctx context.Context, run *imageUpdateRun, err error) (string, ctrl.Result) {
	obj := run.obj
	reason, stalled := imageUpdateFailure(err)
	msg := strings.Join(strings.Fields(run.red.Error(err)), " ")
	log.FromContext(ctx).Info("image update failed", "reason", reason, "message", msg)
	if !failedAlready(obj, reason, msg) {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Update", "%s", msg)
	}
	if stalled {
		conditions.MarkStalled(obj, reason, msg)
		return metrics.ResultStalled, ctrl.Result{}
	}
	conditions.MarkFailed(obj, reason, msg)
	return metrics.ResultFailure, ctrl.Result{RequeueAfter: jitter(obj.Spec.Interval.Duration)}
}

// imageUpdateFailure maps an error to a reason and whether it stalls.
func imageUpdateFailure(err error) (string, bool) {
	var spec *specError
	var src *sourceNotFoundError
	var key *secretKeyError
	switch {
	case errors.As(err, &spec), errors.Is(err, setters.ErrOutsideRepository), errors.Is(err, commitmsg.ErrTemplate):
		return v1alpha1.ReasonInvalidSpec, true
	case errors.As(err, &src):
		return v1alpha1.ReasonSourceNotReady, false
	case errors.As(err, &key) && key.err == nil:
		return v1alpha1.ReasonSecretNotFound, false
	case errors.As(err, &key):
		return v1alpha1.ReasonInvalidSpec, false
	case errors.Is(err, gitwrite.ErrPushRejected):
		return ReasonPushRejected, false
	case errors.Is(err, forge.ErrAPI):
		return ReasonPullRequestFailed, false
	}
	return failureReason(err)
}

// specError is a field of the spec that cannot work; only an edit fixes it.
type specError struct{ field, msg string }

func (e *specError) Error() string { return e.field + ": " + e.msg }

// secretKeyError is a Secret that lacks a key (err nil) or whose key does
// not parse (err). Fixing the Secret cures it, so it does not stall: the
// update retries each interval. It never holds a value of the Secret.
type secretKeyError struct {
	secret, key, field string
	err                error
}

func (e *secretKeyError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("Secret %s (%s) has no key %s: add it; the update retries each interval", e.secret, e.field, e.key)
	}
	return fmt.Sprintf("Secret %s (%s): %v; fix the Secret: the update retries each interval", e.secret, e.field, e.err)
}

func (e *secretKeyError) Unwrap() error { return e.err }

// sourceNotFoundError is a missing GitRepository.
type sourceNotFoundError struct{ name string }

func (e *sourceNotFoundError) Error() string {
	return "GitRepository " + e.name + " not found: create it, or fix spec.sourceRef"
}

// patchStatus writes status when it changed since before.
func (r *ImageUpdateReconciler) patchStatus(ctx context.Context, before, obj *v1alpha1.ImageUpdate) error {
	return patchStatus(ctx, r.Client, &r.written, before, obj, func(o *v1alpha1.ImageUpdate) v1alpha1.ImageUpdateStatus { return o.Status })
}
