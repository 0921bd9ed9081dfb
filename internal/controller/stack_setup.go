package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// Field indexes of Stacks.
const (
	stackSourceIndex    = ".spec.sourceRef"
	stackDependsOnIndex = ".spec.dependsOn"
)

// SetupWithManager registers the reconciler. A Stack reconciles on a change
// of its spec or reconcile annotation, a new revision of its source, and a
// dependency turning Ready.
func (r *StackReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(context.Background(), &v1alpha1.Stack{}, stackSourceIndex, func(o client.Object) []string {
		s := o.(*v1alpha1.Stack)
		ns, name := s.SourceKey()
		return []string{s.Spec.SourceRef.Kind + "/" + ns + "/" + name}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(context.Background(), &v1alpha1.Stack{}, stackDependsOnIndex, func(o client.Object) []string {
		s := o.(*v1alpha1.Stack)
		keys := make([]string, 0, len(s.Spec.DependsOn))
		for _, d := range s.Spec.DependsOn {
			keys = append(keys, dependencyKey(s, d).String())
		}
		return keys
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Stack{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, ReconcileRequestedPredicate{}))).
		Watches(&v1alpha1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.stacksForSource),
			builder.WithPredicates(revisionChanged{})).
		Watches(&v1alpha1.Stack{}, handler.EnqueueRequestsFromMapFunc(r.dependents),
			builder.WithPredicates(becameReady{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

func (r *StackReconciler) stacksForSource(ctx context.Context, o client.Object) []ctrl.Request {
	return r.requestsMatching(ctx, stackSourceIndex, v1alpha1.GitRepositoryKind+"/"+o.GetNamespace()+"/"+o.GetName())
}

func (r *StackReconciler) dependents(ctx context.Context, o client.Object) []ctrl.Request {
	return r.requestsMatching(ctx, stackDependsOnIndex, client.ObjectKeyFromObject(o).String())
}

func (r *StackReconciler) requestsMatching(ctx context.Context, index, value string) []ctrl.Request {
	var list v1alpha1.StackList
	if err := r.List(ctx, &list, client.MatchingFields{index: value}); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, s := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
	}
	return reqs
}

// revisionChanged passes source updates that store a new artifact: a new
// revision, or the same revision stored again, as an agent that restarted
// with an empty data directory does. A Stack that reconciled before that
// failed with "no artifact yet" and would otherwise wait its retry interval.
// Creations do not pass: a new source has no artifact yet, and at agent
// start every Stack is queued by its own creation event already.
type revisionChanged struct{ predicate.Funcs }

// Create implements predicate.Predicate.
func (revisionChanged) Create(event.CreateEvent) bool { return false }

// Update implements predicate.Predicate.
func (revisionChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*v1alpha1.GitRepository)
	n, ok2 := e.ObjectNew.(*v1alpha1.GitRepository)
	if !ok1 || !ok2 || n.Status.Artifact == nil {
		return false
	}
	old, cur := o.Status.Artifact, n.Status.Artifact
	return old == nil || old.Revision != cur.Revision || !old.LastUpdateTime.Equal(&cur.LastUpdateTime)
}

// becameReady passes Stack updates where Ready turned True or the applied
// revision moved, which is when dependents may proceed, and those where
// Ready turned False, which ends their wait. Creations pass
// too: a dependent that found its dependency missing checks again (the
// new Stack may close a cycle); when both appear together, the dependent
// reconciles twice, and the second finds the same failure and records no
// second event.
type becameReady struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (becameReady) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*v1alpha1.Stack)
	n, ok2 := e.ObjectNew.(*v1alpha1.Stack)
	if !ok1 || !ok2 {
		return false
	}
	if dependencyReady(n) {
		return !dependencyReady(o) || o.Status.LastAppliedRevision != n.Status.LastAppliedRevision
	}
	// A dependency that failed ends its dependents' wait: they say why.
	return conditions.IsFalse(n, v1alpha1.ReadyCondition) && !conditions.IsFalse(o, v1alpha1.ReadyCondition)
}
