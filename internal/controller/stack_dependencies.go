package controller

import (
	"context"

	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// dependencyKey returns namespace/name of a dependency of obj.
func dependencyKey(obj *v1alpha1.Stack, d v1alpha1.DependencyReference) client.ObjectKey {
	ns := d.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return client.ObjectKey{Namespace: ns, Name: d.Name}
}

// checkDependencies fails unless every Stack of dependsOn is Ready at its
// latest revision; a cycle is a stalled failure naming it. A dependency on
// the same source must also have applied revision, the one obj is about to
// apply: until it has, obj waits (the dependency's status update requeues
// it), so a commit reaches the dependency first, as dependsOn promises.
func (r *StackReconciler) checkDependencies(ctx context.Context, obj *v1alpha1.Stack, revision string) *failure {
	if len(obj.Spec.DependsOn) == 0 {
		return nil
	}
	if cycle := r.findCycle(ctx, obj); cycle != nil {
		return stalled(v1alpha1.ReasonDependencyCycle, "dependsOn forms a cycle: "+strings.Join(cycle, " -> "))
	}
	for _, d := range obj.Spec.DependsOn {
		key := dependencyKey(obj, d)
		var dep v1alpha1.Stack
		if err := r.Get(ctx, key, &dep); err != nil {
			if apierrors.IsNotFound(err) {
				return failed(v1alpha1.ReasonDependencyNotReady, "dependency Stack "+key.String()+" does not exist")
			}
			return failed(v1alpha1.ReasonDependencyNotReady, "reading dependency "+key.String()+": "+err.Error())
		}
		if !dependencyReady(&dep) && inProgress(&dep) {
			return &failure{reason: v1alpha1.ReasonDependencyNotReady, waiting: true,
				message: "waiting for dependency Stack " + key.String() + " to finish reconciling"}
		}
		if !dependencyReady(&dep) {
			return failed(v1alpha1.ReasonDependencyNotReady, "dependency Stack "+key.String()+" is not ready at its latest revision")
		}
		if sameSource(obj, &dep) && dep.Status.LastAppliedRevision != revision {
			return &failure{reason: v1alpha1.ReasonDependencyNotReady, waiting: true,
				message: "waiting for dependency Stack " + key.String() + " to apply " + revision}
		}
	}
	return nil
}

// inProgress reports a Stack that is reconciling and has not failed.
func inProgress(s *v1alpha1.Stack) bool {
	return meta.IsStatusConditionTrue(s.Status.Conditions, v1alpha1.ReconcilingCondition) &&
		conditions.ReadinessOf(s).State == conditions.StateProgressing
}

// sameSource reports Stacks that apply the same GitRepository.
func sameSource(a, b *v1alpha1.Stack) bool {
	ans, an := a.SourceKey()
	bns, bn := b.SourceKey()
	return a.Spec.SourceRef.Kind == b.Spec.SourceRef.Kind && ans == bns && an == bn
}

// dependencyReady: Ready for the current generation, with the revision it
// last attempted applied.
func dependencyReady(dep *v1alpha1.Stack) bool {
	return stackspec.ReadyAt(dep, dep.Status.LastAttemptedRevision)
}

// findCycle follows dependsOn from obj and returns the path of a cycle
// through obj, or nil.
func (r *StackReconciler) findCycle(ctx context.Context, obj *v1alpha1.Stack) []string {
	start := client.ObjectKeyFromObject(obj).String()
	var walk func(s *v1alpha1.Stack, path []string, seen map[string]bool) []string
	walk = func(s *v1alpha1.Stack, path []string, seen map[string]bool) []string {
		for _, d := range s.Spec.DependsOn {
			key := dependencyKey(s, d)
			next := append(append([]string(nil), path...), key.String())
			if key.String() == start {
				return next
			}
			if seen[key.String()] {
				continue
			}
			seen[key.String()] = true
			var dep v1alpha1.Stack
			if err := r.Get(ctx, key, &dep); err != nil {
				continue
			}
			if c := walk(&dep, next, seen); c != nil {
				return c
			}
		}
		return nil
	}
	return walk(obj, []string{start}, map[string]bool{})
}
