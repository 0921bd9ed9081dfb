package main

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// stackNames are the Stacks of a cluster as a platform team names them:
// infrastructure first, then the applications; past 20, app-NN.
var stackNames = []string{
	"infrastructure", "cert-manager", "ingress-nginx", "external-dns", "monitoring",
	"logging", "policy", "secrets", "storage", "backup",
	"service-mesh", "autoscaling", "api-gateway", "frontend", "checkout",
	"payments", "catalog", "search", "notifications", "analytics",
}

// firstApp is the index of the first application Stack: those before it
// are infrastructure.
const firstApp = 13

// stackName is the name of the j-th Stack of every cluster.
func stackName(j int) string {
	if j < len(stackNames) {
		return stackNames[j]
	}
	return fmt.Sprintf("app-%02d", j)
}

// inventoryKinds are the kinds of a Stack's inventory, in turn.
var inventoryKinds = []v1alpha1.InventoryEntry{
	{Version: "v1", Kind: "ServiceAccount"}, {Version: "v1", Kind: "ConfigMap"},
	{Group: "apps", Version: "v1", Kind: "Deployment"}, {Version: "v1", Kind: "Service"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
}

// stack is the j-th Stack of cluster i with the status an agent would have
// written: most Ready at the branch head, some behind it, one in 17 not
// Ready, drift records in one in 4, an inventory of 5 to 40 objects.
func stack(i, j int, now time.Time) *v1alpha1.Stack {
	name, cluster := stackName(j), controlplane.ClusterName(i)
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: sourceName},
			Path:      "clusters/" + cluster + "/" + name,
			Interval:  metav1.Duration{Duration: 10 * time.Minute},
			Prune:     true,
			DependsOn: dependsOn(j),
		},
	}
	revision := head
	if (i+j)%7 == 3 {
		revision = behind
	}
	ready := readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied revision "+revision, now.Add(-time.Duration(i+j)*time.Minute))
	if (i*len(stackNames)+j)%17 == 5 {
		ready = readyCondition(metav1.ConditionFalse, v1alpha1.ReasonHealthCheckFailed,
			"Deployment/"+name+"/"+name+" did not become ready within 5m0s: 1 of 2 replicas available", now.Add(-3*time.Minute))
	}
	s.Status = v1alpha1.StackStatus{
		ObservedGeneration:    1,
		Conditions:            []metav1.Condition{ready},
		LastAppliedRevision:   revision,
		LastAttemptedRevision: revision,
		Inventory:             inventory(name, 5+(i*7+j*3)%36),
		LastChange:            &v1alpha1.ChangeSummary{Configured: 1 + j%3, Unchanged: 4 + (i*7+j*3)%36 - j%3},
		Drift:                 drift(i, j, name, now),
	}
	return s
}

// dependsOn makes every infrastructure Stack wait for the first, and every
// application for the ingress and the monitoring.
func dependsOn(j int) []v1alpha1.DependencyReference {
	switch {
	case j == 0:
		return nil
	case j < firstApp:
		return []v1alpha1.DependencyReference{{Name: stackNames[0]}}
	default:
		return []v1alpha1.DependencyReference{{Name: stackNames[2]}, {Name: stackNames[4]}}
	}
}

// inventory is n objects of the Stack name, in its own namespace (the
// Namespace itself first).
func inventory(name string, n int) []v1alpha1.InventoryEntry {
	out := []v1alpha1.InventoryEntry{{Version: "v1", Kind: "Namespace", Name: name}}
	for k := range n - 1 {
		e := inventoryKinds[k%len(inventoryKinds)]
		e.Namespace, e.Name = name, fmt.Sprintf("%s-%d", name, k/len(inventoryKinds))
		out = append(out, e)
	}
	return out
}

// drift gives one Stack in four 1 to 3 drift records of the last hour,
// newest first: hand edits that the agent corrected.
func drift(i, j int, name string, now time.Time) []v1alpha1.DriftRecord {
	if (i+j)%4 != 0 {
		return nil
	}
	fields := [][]string{{".spec.replicas"}, {".spec.template.spec.containers[0].image"}, {".data.LOG_LEVEL"}}
	var out []v1alpha1.DriftRecord
	for k := range 1 + (i+j)%3 {
		out = append(out, v1alpha1.DriftRecord{
			Object: fmt.Sprintf("Deployment/%s/%s-0", name, name), Fields: fields[k%len(fields)],
			Manager: "kubectl-edit", Action: "corrected", Time: metav1.NewTime(now.Add(-time.Duration(5+10*k) * time.Minute).Truncate(time.Second)),
		})
	}
	return out
}

// applyChange flips the Stack's Ready condition and sets its revisions to
// revision: what a reconcile of a new commit that fails or recovers writes.
func applyChange(s *v1alpha1.Stack, revision string, now time.Time) (ready metav1.ConditionStatus) {
	c := readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied revision "+revision, now)
	if cur := currentReady(s); cur == metav1.ConditionTrue {
		c = readyCondition(metav1.ConditionFalse, v1alpha1.ReasonHealthCheckFailed,
			"Deployment/"+s.Name+"/"+s.Name+"-0 did not become ready within 5m0s", now)
	}
	for k := range s.Status.Conditions {
		if s.Status.Conditions[k].Type == v1alpha1.ReadyCondition {
			s.Status.Conditions[k] = c
		}
	}
	s.Status.LastAppliedRevision, s.Status.LastAttemptedRevision = revision, revision
	return c.Status
}

// currentReady is the status of the Stack's Ready condition.
func currentReady(s *v1alpha1.Stack) metav1.ConditionStatus {
	for _, c := range s.Status.Conditions {
		if c.Type == v1alpha1.ReadyCondition {
			return c.Status
		}
	}
	return metav1.ConditionUnknown
}
