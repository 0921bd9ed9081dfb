package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/router"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// canaryTargetIndex indexes Canaries by the name of their target Deployment.
const canaryTargetIndex = ".spec.targetRef.name"

// ReasonTargetNotFound is Ready=False while a Canary's target Deployment
// does not exist (a Stack may not have applied it yet).
const ReasonTargetNotFound = "TargetNotFound"

// ReasonReplicasConflict is the Warning event when the target's
// spec.replicas is applied by a manifest, which fights the Canary's scaling.
const ReasonReplicasConflict = "ReplicasConflict"

// canaryTargetPoll is how often a Canary whose target is missing looks
// again (the Deployment watch usually wakes it sooner).
const canaryTargetPoll = 30 * time.Second

// CanaryReconciler steps each Canary's state machine (package canary).
type CanaryReconciler struct {
	client.Client
	// Events records Kubernetes events on the Canary (the alerts engine
	// reads them).
	Events events.EventRecorder
	// Metrics records reconcile outcomes; nil records nothing.
	Metrics *metrics.Recorder
	// Checker runs metric checks; nil refuses (Stalled) Canaries with metrics.
	Checker canary.MetricChecker
	// Hooks calls webhooks; nil refuses (Stalled) Canaries with webhooks.
	Hooks canary.Hooks
	// Ledger writes the rollout ledger; nil writes no notes.
	Ledger canary.Ledger
	// GitRollback quarantines failed images in Git; nil does nothing.
	GitRollback canary.GitRollback
	// NewRouter returns the router of a provider; nil is router.New.
	NewRouter func(provider string, c client.Client) (canary.Router, error)
	// Now is the clock of the state machine; nil is time.Now.
	Now func() time.Time

	written writtenVersions
}

// SetupWithManager registers the reconciler. A reconcile runs on a change
// of spec or annotations (promote, abort), and of the target or primary
// Deployment (readiness, a new pod template).
func (r *CanaryReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.Canary{}, canaryTargetIndex,
		func(o client.Object) []string { return []string{o.(*v1alpha1.Canary).Spec.TargetRef.Name} })
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Canary{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.Deployment{}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.requestsForTarget)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

func (r *CanaryReconciler) requestsForTarget(ctx context.Context, o client.Object) []ctrl.Request {
	var list v1alpha1.CanaryList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{canaryTargetIndex: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, c := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
	}
	return reqs
}

// +kubebuilder:rbac:groups=flotilla.io,resources=canaries,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=canaries/status;canaries/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=flotilla.io,resources=metrictemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile steps one Canary's state machine once.
func (r *CanaryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	obj := &v1alpha1.Canary{}
	if err := readFresh(ctx, r.Client, &r.written, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	start, before := time.Now(), obj.DeepCopy()
	outcome := metrics.ResultSuccess
	defer func() {
		r.Metrics.Observe(v1alpha1.CanaryKind, outcome, start)
		if obj.DeletionTimestamp.IsZero() {
			obj.Status.ObservedGeneration = obj.Generation
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
	engine, workload, err := r.engine(obj)
	if err != nil {
		outcome = r.fail(obj, err)
		return ctrl.Result{}, nil
	}
	return r.step(ctx, obj, engine, workload, &outcome)
}

// engine validates obj and builds its state machine.
func (r *CanaryReconciler) engine(obj *v1alpha1.Canary) (*canary.Engine, *canary.Deployments, error) {
	if err := canary.Validate(obj, r.Checker != nil, r.Hooks != nil); err != nil {
		return nil, nil, err
	}
	newRouter := r.NewRouter
	if newRouter == nil {
		newRouter = router.New
	}
	rt, err := newRouter(obj.Spec.Provider, r.Client)
	if err != nil {
		return nil, nil, err
	}
	workload := canary.NewDeployments(r.Client)
	var checker canary.MetricChecker = canary.Unavailable{}
	if r.Checker != nil {
		checker = r.Checker
	}
	var hooks canary.Hooks = canary.Unavailable{}
	if r.Hooks != nil {
		hooks = r.Hooks
	}
	opts := []canary.Option{}
	if r.Ledger != nil {
		opts = append(opts, canary.WithLedger(r.Ledger))
	}
	if r.GitRollback != nil {
		opts = append(opts, canary.WithGitRollback(r.GitRollback))
	}
	engine, err := canary.New(workload, rt, checker, hooks, opts...)
	return engine, workload, err
}

// step observes the Deployments and advances the state machine once.
func (r *CanaryReconciler) step(ctx context.Context, obj *v1alpha1.Canary, engine *canary.Engine, workload *canary.Deployments, outcome *string) (ctrl.Result, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	obs, err := workload.Observe(ctx, obj, now())
	if err == nil && obs.ReplicasAppliedBy != "" {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, ReasonReplicasConflict, "Analysis",
			"spec.replicas of Deployment %s is applied by %s, which will undo the Canary's scaling: remove replicas from the manifest (as with Flagger) and let the Canary (or an autoscalerRef) scale it",
			obj.Spec.TargetRef.Name, obs.ReplicasAppliedBy)
	}
	if err == nil {
		var res canary.Result
		res, err = engine.Step(ctx, obj, obs)
		for _, ev := range res.Events {
			r.Events.Eventf(obj, nil, ev.Type, ev.Reason, "Analysis", "%s", ev.Message)
		}
		if err == nil {
			return ctrl.Result{RequeueAfter: res.RequeueAfter}, nil
		}
	}
	*outcome = r.fail(obj, err)
	var missing *canary.TargetNotFoundError
	switch {
	case *outcome == metrics.ResultStalled:
		return ctrl.Result{}, nil
	case errors.As(err, &missing):
		return ctrl.Result{RequeueAfter: canaryTargetPoll}, nil
	}
	return ctrl.Result{}, err
}

// fail records err on obj: Stalled for a spec no retry can cure, Ready=False
// otherwise. It returns the metric outcome.
func (r *CanaryReconciler) fail(obj *v1alpha1.Canary, err error) string {
	var spec *canary.SpecError
	var missing *canary.TargetNotFoundError
	reason, msg := canary.ReasonStepFailed, err.Error()
	switch {
	case errors.As(err, &spec):
		if !failedAlready(obj, v1alpha1.ReasonInvalidSpec, msg) {
			r.Events.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.ReasonInvalidSpec, "Validate", "%s", msg)
		}
		conditions.MarkStalled(obj, v1alpha1.ReasonInvalidSpec, msg)
		return metrics.ResultStalled
	case errors.As(err, &missing):
		reason = ReasonTargetNotFound
	}
	if !failedAlready(obj, reason, msg) {
		r.Events.Eventf(obj, nil, corev1.EventTypeWarning, reason, "Analysis", "%s", msg)
	}
	conditions.MarkFailed(obj, reason, msg)
	return metrics.ResultFailure
}

// finalize scales the target back up before the Canary goes: the primary
// and the Services go with their owner, and the app must not be left at
// zero replicas.
func (r *CanaryReconciler) finalize(ctx context.Context, obj *v1alpha1.Canary) error {
	var missing *canary.TargetNotFoundError
	if err := canary.NewDeployments(r.Client).ScaleTarget(ctx, obj, true); err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("scaling the target of Canary %s/%s back up before its deletion: %w", obj.Namespace, obj.Name, err)
	}
	return removeFinalizer(ctx, r.Client, &r.written, obj)
}

func (r *CanaryReconciler) patchStatus(ctx context.Context, before, obj *v1alpha1.Canary) error {
	return patchStatus(ctx, r.Client, &r.written, before, obj, func(o *v1alpha1.Canary) v1alpha1.CanaryStatus { return o.Status })
}
