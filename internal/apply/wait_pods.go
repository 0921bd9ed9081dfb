package apply

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// podControllers are the kinds whose spec.selector selects the Pods they
// run. kstatus says such an object is not available ("Available: 0/1");
// why its Pods are not (an image that cannot be pulled, a crash loop, no
// room on any node) is in the Pods' status, and a failed wait reports it.
var podControllers = map[schema.GroupKind]bool{
	{Group: "apps", Kind: "Deployment"}:  true,
	{Group: "apps", Kind: "StatefulSet"}: true,
	{Group: "apps", Kind: "DaemonSet"}:   true,
	{Group: "apps", Kind: "ReplicaSet"}:  true,
	{Group: "batch", Kind: "Job"}:        true,
}

// Bounds of what a failed wait says about Pods.
const (
	// maxPodProblems is how many Pods of one object are described.
	maxPodProblems = 3
	// maxProblemLength cuts a kubelet message (a pull error quotes the
	// registry's answer).
	maxProblemLength = 300
	// podReadTimeout bounds the reads after the wait's own deadline.
	podReadTimeout = 5 * time.Second
)

// benignWaiting are the waiting reasons of a container on its way to run.
var benignWaiting = map[string]bool{"": true, "ContainerCreating": true, "PodInitializing": true}

// explainPods adds to each not-ready Pod controller what its Pods' status
// says is wrong. It runs once a wait has failed, after ctx's deadline
// perhaps, so it reads with a short timeout of its own. Reads that fail
// (an impersonated service account may not list Pods) add nothing.
func (m *Manager) explainPods(ctx context.Context, notReady []NotReady) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), podReadTimeout)
	defer cancel()
	for i, n := range notReady {
		if podControllers[schema.GroupKind{Group: n.Object.Group, Kind: n.Object.Kind}] {
			notReady[i].Pods = m.podProblems(ctx, n.Object)
		}
	}
}

// podProblems describes the Pods of o that are not on their way to run.
func (m *Manager) podProblems(ctx context.Context, o ObjMetadata) []string {
	live := o.Unstructured()
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live); err != nil {
		return nil
	}
	raw, ok, _ := unstructured.NestedMap(live.Object, "spec", "selector")
	if !ok {
		return nil
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || sel.Empty() {
		return nil
	}
	var pods corev1.PodList
	if err := m.client.List(ctx, &pods, client.InNamespace(o.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var out []string
	for i := range pods.Items {
		if p := podProblem(&pods.Items[i]); p != "" && len(out) < maxPodProblems {
			out = append(out, p)
		}
	}
	return out
}

// podProblem says what keeps a Pod from running, or "".
func podProblem(p *corev1.Pod) string {
	if !p.DeletionTimestamp.IsZero() {
		return ""
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return cut(fmt.Sprintf("Pod %s: %s: %s", p.Name, c.Reason, c.Message))
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		switch st := cs.State; {
		case st.Waiting != nil && !benignWaiting[st.Waiting.Reason]:
			return cut(fmt.Sprintf("Pod %s: container %s: %s: %s", p.Name, cs.Name, st.Waiting.Reason, st.Waiting.Message))
		case st.Terminated != nil && st.Terminated.ExitCode != 0:
			return cut(fmt.Sprintf("Pod %s: container %s: %s (exit code %d)", p.Name, cs.Name, st.Terminated.Reason, st.Terminated.ExitCode))
		}
	}
	return ""
}

func cut(s string) string {
	if len(s) <= maxProblemLength {
		return s
	}
	return s[:maxProblemLength] + "…"
}
