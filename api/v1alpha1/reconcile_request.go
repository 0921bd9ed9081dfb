package v1alpha1

import (
	"encoding/json"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ReconcileRequestValue is the annotation's value for a request made at t:
// the time in UTC, RFC 3339 with nanoseconds, so that each request differs.
func ReconcileRequestValue(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// ReconcileRequestPatch is the merge patch that sets
// ReconcileRequestAnnotation to value: what `flotilla reconcile`, the
// receivers, the dashboard and the rollback of a canary send.
func ReconcileRequestPatch(value string) client.Patch {
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{ReconcileRequestAnnotation: value}}})
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return client.RawPatch(types.MergePatchType, b)
}

// ReconcileRequested reports whether obj carries a reconcile request its
// status has not handled yet (handled is status.lastHandledReconcileAt).
func ReconcileRequested(obj client.Object, handled string) bool {
	at := obj.GetAnnotations()[ReconcileRequestAnnotation]
	return at != "" && at != handled
}
