package localnode_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/localnode"
)

// start starts a node for one test and stops it at the end.
func start(t *testing.T) *localnode.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts a real node, not with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	before := existingHostDirs()
	c, err := localnode.Start(ctx, localnode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the node: %v", err)
		}
		assertHostClean(t, before)
	})
	return c
}

// hostDirs are the directories outside its own that a node writes to.
var hostDirs = []string{"/sys/fs/cgroup/memory/flotilla-node", "/var/lib/kubelet", "/var/lib/cni", "/run/containerd", "/var/log/pods"}

// existingHostDirs returns those of hostDirs that exist now.
func existingHostDirs() map[string]bool {
	m := map[string]bool{}
	for _, d := range hostDirs {
		if _, err := os.Stat(d); err == nil {
			m[d] = true
		}
	}
	return m
}

// assertHostClean fails when anything a node changes on the host is left.
// It looks while holding the machine-wide lock, so that a node another
// test package starts meanwhile is not taken for a leftover.
func assertHostClean(t *testing.T, before map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := localnode.WithLock(ctx, func() { checkHostClean(t, before) }); err != nil {
		t.Fatal(err)
	}
}

func checkHostClean(t *testing.T, before map[string]bool) {
	t.Helper()
	for _, link := range []string{"flnode0", "flcni0"} {
		if exec.Command("ip", "link", "show", link).Run() == nil {
			t.Errorf("link %s is still there", link)
		}
	}
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, chain := range []string{"KUBE-SERVICES", "CNI-", "KUBE-FORWARD"} {
		if strings.Contains(string(out), chain) {
			t.Errorf("iptables still holds %s chains", chain)
		}
	}
	for _, dir := range hostDirs {
		if _, err := os.Stat(dir); err == nil && !before[dir] {
			t.Errorf("%s is still there", dir)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), "flotilla-node-") {
		t.Errorf("mounts of the node are left:\n%s", mounts)
	}
}

func TestNodeRunsADeploymentFromTheLocalImage(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	dep := pauseDeployment("pause")
	labels := dep.Spec.Selector.MatchLabels
	if err := c.Client.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, c, dep)
	var pods corev1.PodList
	if err := c.Client.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Status.PodIP, "10.244.0.") {
			t.Errorf("pod %s has IP %q, want one of the node's Pod range", p.Name, p.Status.PodIP)
		}
	}
}

// waitAvailable waits until every replica of dep is available.
func waitAvailable(t *testing.T, c *localnode.Cluster, dep *appsv1.Deployment) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var got appsv1.Deployment
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(dep), &got); err != nil {
			return false, err
		}
		return got.Status.AvailableReplicas == *dep.Spec.Replicas, nil
	})
	if err != nil {
		t.Fatalf("deployment %s not available: %v%s", dep.Name, err, podReport(c, dep.Namespace))
	}
}

// podReport describes the Pods of ns for a failure message.
func podReport(c *localnode.Cluster, ns string) string {
	var pods corev1.PodList
	if err := c.Client.List(context.Background(), &pods, client.InNamespace(ns)); err != nil {
		return "; listing pods: " + err.Error()
	}
	var b strings.Builder
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "\n  pod %s: %s", p.Name, p.Status.Phase)
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				fmt.Fprintf(&b, " %s: %s", w.Reason, w.Message)
			}
		}
	}
	return b.String()
}

func TestCleanupAfterACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a real node, not with -short")
	}
	ctx := context.Background()
	before := existingHostDirs()
	c, err := localnode.Start(ctx, localnode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Pods leave the most behind: shims, network namespaces, veths,
	// overlay mounts, volumes, CNI state and cgroups.
	dep := pauseDeployment("crash")
	if err := c.Client.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, c, dep)
	// A crash: every component killed at once, nothing undone; the
	// machine-wide lock is released as the process's would be.
	c.Crash()
	if err := localnode.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	assertHostClean(t, before)
	if err := localnode.Cleanup(ctx); err != nil {
		t.Errorf("a second cleanup: %v", err)
	}
	if err := c.Stop(); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stop after Cleanup: %v", err)
	}
}

// TestAStepThatCannotStartIsNamedAndLeavesTheHostClean: a component that
// exits at once (here, kube-scheduler given a flag it does not know) fails
// Start with the step's name and its log file, and nothing stays behind.
func TestAStepThatCannotStartIsNamedAndLeavesTheHostClean(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a real node, not with -short")
	}
	before := existingHostDirs()
	_, err := localnode.Start(context.Background(), localnode.Options{
		ExtraArgs: map[string][]string{"kube-scheduler": {"--no-such-flag"}},
	})
	var step *localnode.StepError
	if !errors.As(err, &step) || step.Step != "kube-scheduler" {
		t.Fatalf("Start: %v, want a StepError for kube-scheduler", err)
	}
	logs, rerr := os.ReadFile(step.Log)
	if rerr != nil || !strings.Contains(string(logs), "no-such-flag") {
		t.Errorf("the step's log %s (%v) does not say what failed:\n%s", step.Log, rerr, logs)
	}
	if !strings.Contains(err.Error(), step.Log) {
		t.Errorf("the error does not name the log file: %v", err)
	}
	os.RemoveAll(filepath.Dir(step.Log))
	assertHostClean(t, before)
}

// pauseDeployment runs two Pods of the node's own pause image.
func pauseDeployment(name string) *appsv1.Deployment {
	return deployment(name, "pause", "flotilla.local/pause:test")
}

// deployment runs two Pods of one container in namespace default.
func deployment(name, container, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: container, Image: image}}},
			},
		},
	}
}
