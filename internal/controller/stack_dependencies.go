package controller

import (
	"context"

	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
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
// latest revision; a cycle is a stalled failure naming it.
func (r *StackReconciler) checkDependencies(ctx context.Context, obj *v1alpha1.Stack) *failure {
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
		if !dependencyReady(&dep) {
			return failed(v1alpha1.ReasonDependencyNotReady, "dependency Stack "+key.String()+" is not ready at its latest revision")
		}
	}
	return nil
}

// dependencyReady: Ready for the current generation, with the revision it
// last attempted applied.
func dependencyReady(dep *v1alpha1.Stack) bool {
	return conditions.IsReady(dep) && dep.Status.ObservedGeneration == dep.Generation &&
		dep.Status.LastAppliedRevision != "" && dep.Status.LastAppliedRevision == dep.Status.LastAttemptedRevision
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
