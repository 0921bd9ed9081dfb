package apply

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// healthRule refines kstatus's verdict for a kind whose controller reports
// readiness in a way kstatus's generic rules do not read.
type healthRule func(u *unstructured.Unstructured, generic *status.Result) *status.Result

// healthRules holds the per-kind rules. kstatus calls a custom resource
// Current unless a Reconciling or Stalled condition says otherwise; the
// secret controllers below only set one condition of their own (the Sealed
// Secrets controller Synced, the External Secrets operator Ready), so
// without a rule a SealedSecret that cannot be unsealed, or an
// ExternalSecret that cannot sync, would count as healthy.
var healthRules = map[schema.GroupKind]healthRule{
	{Group: "bitnami.com", Kind: "SealedSecret"}:                  conditionRule("Synced"),
	{Group: "external-secrets.io", Kind: "ExternalSecret"}:        conditionRule("Ready"),
	{Group: "external-secrets.io", Kind: "ClusterExternalSecret"}: conditionRule("Ready"),
}

// ComputeStatus is kstatus's verdict on u, refined by the rule of u's kind
// (healthRules); the agent's waits and `flotilla tree` read health through it.
func ComputeStatus(u *unstructured.Unstructured) (*status.Result, error) {
	res, err := status.Compute(u)
	if err != nil {
		return nil, err
	}
	if rule, ok := healthRules[u.GroupVersionKind().GroupKind()]; ok {
		return rule(u, res), nil
	}
	return res, nil
}

// Health is the verdict on an object read with err, in kstatus's words,
// and unless it is Current, its message: NotFound when the object or its
// kind is gone, Unknown when it could not be read, else ComputeStatus's.
// `flotilla tree` and the dashboard show it.
func Health(u *unstructured.Unstructured, err error) (string, string) {
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return status.NotFoundStatus.String(), ""
	case err != nil:
		return status.UnknownStatus.String(), Reason(err)
	}
	res, err := ComputeStatus(u)
	if err != nil {
		return status.UnknownStatus.String(), err.Error()
	}
	if res.Status == status.CurrentStatus {
		return res.Status.String(), ""
	}
	return res.Status.String(), res.Message
}

// conditionRule reads the condition of type condType: True is Current
// (once kstatus's generic checks, deletion, observedGeneration and
// Reconciling, pass), False is Failed with the controller's reason and
// message (kstatus alone would wait for it until the timeout), and no such
// condition yet is InProgress: the controller has not handled the object.
func conditionRule(condType string) healthRule {
	return func(u *unstructured.Unstructured, generic *status.Result) *status.Result {
		if generic.Status == status.TerminatingStatus || generic.Status == status.FailedStatus || staleStatus(u) {
			return generic
		}
		cond, found := findCondition(u, condType)
		switch {
		case found && cond["status"] == "False":
			return &status.Result{Status: status.FailedStatus, Message: condType + " is False: " + reasonAndMessage(cond)}
		case generic.Status != status.CurrentStatus:
			return generic
		case !found:
			return &status.Result{Status: status.InProgressStatus, Message: fmt.Sprintf("no %s condition yet: is its controller running?", condType)}
		case cond["status"] == "True":
			return generic
		}
		message, _ := cond["message"].(string)
		return &status.Result{Status: status.InProgressStatus, Message: condType + " is Unknown: " + message}
	}
}

// reasonAndMessage joins a condition's reason (when it has one; the Sealed
// Secrets controller sets none) and message.
func reasonAndMessage(cond map[string]interface{}) string {
	reason, _ := cond["reason"].(string)
	message, _ := cond["message"].(string)
	if reason == "" {
		return message
	}
	return reason + ": " + message
}

// findCondition returns the condition of type condType in u's status.
func findCondition(u *unstructured.Unstructured, condType string) (map[string]interface{}, bool) {
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == condType {
			return m, true
		}
	}
	return nil, false
}

// staleStatus reports whether u's status is about an older generation.
func staleStatus(u *unstructured.Unstructured) bool {
	observed, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return found && observed != u.GetGeneration()
}
