package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// failedAlready reports whether obj's Ready condition already records this
// failure for its current generation: the reconcile is a retry that failed
// the same way, so it records no new Warning event (the condition says it
// still fails). A new reason, a new message or a new generation does.
func failedAlready(obj conditions.Object, reason, message string) bool {
	c := meta.FindStatusCondition(obj.GetConditions(), v1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason &&
		c.Message == message && c.ObservedGeneration == obj.GetGeneration()
}
