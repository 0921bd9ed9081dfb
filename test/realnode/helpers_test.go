package realnode

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// pollInterval is how often a wait looks again.
const pollInterval = 250 * time.Millisecond

// eventually polls cond until it reports done, failing the test with cond's
// last description of the state, and a report of the agent's Pods, after
// timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, state := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s\n%s", timeout, what, state, diagnostics(t))
		}
		time.Sleep(pollInterval)
	}
}

// runCLI runs the flotilla binary and returns its combined output.
func runCLI(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, flotillaBin, args...).CombinedOutput()
	return string(out), err
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := cluster.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

func mustGet(t *testing.T, key client.ObjectKey, obj client.Object) {
	t.Helper()
	if err := cluster.Client.Get(context.Background(), key, obj); err != nil {
		t.Fatalf("reading %T %s: %v", obj, key, err)
	}
}

// newNamespace creates a namespace with a unique name.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	mustCreate(t, ns)
	return ns.Name
}

// clientset is a typed client for what controller-runtime's client cannot
// do (Pod logs).
func clientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// readyCondition returns the Stack's Ready condition, or nil.
func readyCondition(st *v1alpha1.Stack) *metav1.Condition {
	return apimeta.FindStatusCondition(st.Status.Conditions, v1alpha1.ReadyCondition)
}

// describeStack renders the status fields a failed wait should show.
func describeStack(st *v1alpha1.Stack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s/%s generation=%d observedGeneration=%d lastApplied=%s lastAttempted=%s",
		st.Namespace, st.Name, st.Generation, st.Status.ObservedGeneration, st.Status.LastAppliedRevision, st.Status.LastAttemptedRevision)
	for _, c := range st.Status.Conditions {
		fmt.Fprintf(&b, "; %s=%s reason=%s message=%q", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// waitStack waits until the Stack is Ready at revision (any when empty)
// and returns it.
func waitStack(t *testing.T, key client.ObjectKey, revision string, timeout time.Duration) *v1alpha1.Stack {
	t.Helper()
	var st v1alpha1.Stack
	eventually(t, timeout, fmt.Sprintf("Stack %s to be Ready at %q", key, revision), func() (bool, string) {
		if err := cluster.Client.Get(context.Background(), key, &st); err != nil {
			return false, err.Error()
		}
		return stackspec.ReadyAt(&st, revision), describeStack(&st)
	})
	return &st
}

// gitRevision is the revision a GitRepository of branch main reports for
// commit sha.
func gitRevision(sha string) string { return "main@sha1:" + sha }

// available reports whether every replica of the Deployment is updated and
// available, and describes it.
func available(dep *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	s := dep.Status
	desc := fmt.Sprintf("Deployment %s/%s generation=%d observed=%d replicas=%d updated=%d ready=%d available=%d unavailable=%d",
		dep.Namespace, dep.Name, dep.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, s.UnavailableReplicas)
	cond := false
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			cond = true
		}
	}
	ok := cond && s.ObservedGeneration == dep.Generation && s.UpdatedReplicas == want &&
		s.AvailableReplicas == want && s.Replicas == want
	return ok, desc
}

// waitAvailable waits until the Deployment is Available with every replica
// updated, and returns it.
func waitAvailable(t *testing.T, key client.ObjectKey, timeout time.Duration) *appsv1.Deployment {
	t.Helper()
	var dep appsv1.Deployment
	eventually(t, timeout, fmt.Sprintf("Deployment %s to be Available", key), func() (bool, string) {
		if err := cluster.Client.Get(context.Background(), key, &dep); err != nil {
			return false, err.Error()
		}
		return available(&dep)
	})
	return &dep
}

// agentKey is the agent's Deployment.
var agentKey = client.ObjectKey{Namespace: install.DefaultNamespace, Name: install.AgentName}

// agentPods lists the agent's Pods that are not being deleted.
func agentPods(t *testing.T) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	if err := cluster.Client.List(context.Background(), &pods, client.InNamespace(agentKey.Namespace),
		client.MatchingLabels{install.NameLabel: install.AgentName}); err != nil {
		t.Fatalf("listing the agent's Pods: %v", err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp.IsZero() {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podReady reports whether the Pod is Running and Ready.
func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podReport summarises a Pod: phase, node, IP and each container's state.
func podReport(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pod %s/%s phase=%s ip=%s", p.Namespace, p.Name, p.Status.Phase, p.Status.PodIP)
	if !p.DeletionTimestamp.IsZero() {
		b.WriteString(" (terminating)")
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			fmt.Fprintf(&b, " %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		fmt.Fprintf(&b, "\n  container %s image=%s ready=%t restarts=%d", cs.Name, cs.Image, cs.Ready, cs.RestartCount)
		switch st := cs.State; {
		case st.Waiting != nil:
			fmt.Fprintf(&b, " waiting %s: %s", st.Waiting.Reason, st.Waiting.Message)
		case st.Terminated != nil:
			fmt.Fprintf(&b, " terminated %s (exit %d): %s", st.Terminated.Reason, st.Terminated.ExitCode, st.Terminated.Message)
		case st.Running != nil:
			fmt.Fprintf(&b, " running since %s", st.Running.StartedAt.Format(time.RFC3339))
		}
		if lt := cs.LastTerminationState.Terminated; lt != nil {
			fmt.Fprintf(&b, "; last terminated %s (exit %d): %s", lt.Reason, lt.ExitCode, lt.Message)
		}
	}
	return b.String()
}

// diagnostics reports the Pods of every namespace but kube-system, the
// Stacks, and the last lines of each agent Pod's log (and of its previous
// container, when it restarted).
func diagnostics(t *testing.T) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var b strings.Builder
	var pods corev1.PodList
	if err := cluster.Client.List(ctx, &pods); err != nil {
		fmt.Fprintf(&b, "listing Pods: %v\n", err)
	}
	for i := range pods.Items {
		if pods.Items[i].Namespace != "kube-system" {
			b.WriteString(podReport(&pods.Items[i]) + "\n")
		}
	}
	var stacks v1alpha1.StackList
	if err := cluster.Client.List(ctx, &stacks); err == nil {
		for i := range stacks.Items {
			b.WriteString(describeStack(&stacks.Items[i]) + "\n")
		}
	}
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		return b.String()
	}
	for _, p := range pods.Items {
		if p.Namespace != agentKey.Namespace || p.Labels[install.NameLabel] != install.AgentName {
			continue
		}
		for _, previous := range []bool{false, true} {
			if previous && (len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount == 0) {
				continue
			}
			fmt.Fprintf(&b, "--- log of %s (previous=%t), last lines:\n%s\n", p.Name, previous, podLog(ctx, cs, &p, previous, 60))
		}
	}
	return b.String()
}

// podLog returns the last lines of a Pod's log.
func podLog(ctx context.Context, cs *kubernetes.Clientset, p *corev1.Pod, previous bool, lines int64) string {
	req := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Previous: previous, TailLines: &lines})
	rc, err := req.Stream(ctx)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, io.LimitReader(rc, 1<<20))
	return buf.String()
}

// httpGet GETs url with a short timeout, on a new connection: a kept-alive
// one would stay with the Pod behind a deleted Service whose cluster IP a
// new Service got (conntrack keeps the old translation), and that Pod's IP
// may belong to another Pod by now.
func httpGet(url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
