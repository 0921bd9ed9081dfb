// Package conditions sets the Ready, Reconciling and Stalled conditions of
// Flotilla objects the way kstatus reads them: Ready summarises, Reconciling
// is True only while work is under way, Stalled only when a change of spec is
// needed. It holds no controller logic.
package conditions

import (
	"fmt"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Reader is what ReadinessOf reads: a generation and the conditions
// observed for it.
type Reader interface {
	GetGeneration() int64
	GetConditions() []metav1.Condition
}

// Object is a Kubernetes object with status conditions.
type Object interface {
	Reader
	SetConditions([]metav1.Condition)
}

// MaxMessageLength is the longest condition message the API server takes
// (metav1.Condition's maxLength). A longer one would make the whole status
// patch fail and leave Ready stale, so messages are cut to fit.
const MaxMessageLength = 32768

// Truncate cuts message to at most max bytes, on a character boundary, and
// says how much was left out. A message that fits is returned unchanged; a
// limit too short for the note gets the message's start alone.
func Truncate(message string, max int) string {
	if len(message) <= max {
		return message
	}
	suffix := fmt.Sprintf(" … (%d more bytes not shown)", len(message))
	if max < len(suffix) {
		return message[:runeStart(message, max)]
	}
	cut := runeStart(message, max-len(suffix))
	return message[:cut] + fmt.Sprintf(" … (%d more bytes not shown)", len(message)-cut)
}

// runeStart backs i up to the start of the character of s it falls in.
func runeStart(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func set(obj Object, typ string, status metav1.ConditionStatus, reason, message string) {
	c := obj.GetConditions()
	meta.SetStatusCondition(&c, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: Truncate(message, MaxMessageLength), ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(c)
}

func remove(obj Object, typ string) {
	c := obj.GetConditions()
	meta.RemoveStatusCondition(&c, typ)
	obj.SetConditions(c)
}

// MarkReconciling records that work is under way; Ready becomes Unknown
// unless it is already False with a reason worth keeping.
func MarkReconciling(obj Object, message string) {
	set(obj, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing, message)
	remove(obj, v1alpha1.StalledCondition)
	if !meta.IsStatusConditionFalse(obj.GetConditions(), v1alpha1.ReadyCondition) {
		set(obj, v1alpha1.ReadyCondition, metav1.ConditionUnknown, v1alpha1.ReasonProgressing, message)
	}
}

// MarkReady records a successful reconcile.
func MarkReady(obj Object, reason, message string) {
	set(obj, v1alpha1.ReadyCondition, metav1.ConditionTrue, reason, message)
	remove(obj, v1alpha1.ReconcilingCondition)
	remove(obj, v1alpha1.StalledCondition)
}

// MarkWaiting records a reconcile that waits for other work to finish
// first (a dependency applying the same revision): Reconciling, and Ready
// Unknown with reason, as nothing failed.
func MarkWaiting(obj Object, reason, message string) {
	set(obj, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, reason, message)
	set(obj, v1alpha1.ReadyCondition, metav1.ConditionUnknown, reason, message)
	remove(obj, v1alpha1.StalledCondition)
}

// MarkFailed records a failure that a retry may cure.
func MarkFailed(obj Object, reason, message string) {
	set(obj, v1alpha1.ReadyCondition, metav1.ConditionFalse, reason, message)
	remove(obj, v1alpha1.ReconcilingCondition)
	remove(obj, v1alpha1.StalledCondition)
}

// MarkStalled records a failure that only a change of spec or of a
// referenced object can cure.
func MarkStalled(obj Object, reason, message string) {
	set(obj, v1alpha1.ReadyCondition, metav1.ConditionFalse, reason, message)
	set(obj, v1alpha1.StalledCondition, metav1.ConditionTrue, reason, message)
	remove(obj, v1alpha1.ReconcilingCondition)
}

// MarkSuspended records that the object is suspended. Ready keeps its
// status; Reconciling and Stalled are cleared.
func MarkSuspended(obj Object) {
	remove(obj, v1alpha1.ReconcilingCondition)
	remove(obj, v1alpha1.StalledCondition)
}

// MarkDriftWatchFailed records that some applied objects are not watched
// for drift; it leaves Ready alone, as the apply itself succeeded.
func MarkDriftWatchFailed(obj Object, reason, message string) {
	set(obj, v1alpha1.DriftWatchCondition, metav1.ConditionFalse, reason, message)
}

// ClearDriftWatch records that every applied object is watched for drift.
func ClearDriftWatch(obj Object) {
	remove(obj, v1alpha1.DriftWatchCondition)
}

// IsReady reports whether Ready is True for the current generation.
func IsReady(obj Object) bool {
	return ReadinessOf(obj).State == StateReady
}

// IsFalse reports whether the condition typ of obj is False.
func IsFalse(obj Object, typ string) bool {
	return meta.IsStatusConditionFalse(obj.GetConditions(), typ)
}
