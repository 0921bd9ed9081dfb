package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/localfleet"
	"github.com/flotilla-io/flotilla/internal/testground"
)

// assets is the envtest binaries' directory; tests that start a control
// plane need it, and skip under -short, which runs unit tests only.
func assets(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test starts etcd and kube-apiserver (run `make test`)")
	}
	dir, err := testground.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// testCluster starts a control plane with Flotilla's CRDs and the demo's
// namespaces: a cluster as the demo's script sees it, without an agent.
func testCluster(t *testing.T, name string) *cluster {
	t.Helper()
	cp, err := localfleet.StartControlPlane(localfleet.ControlPlaneOptions{Assets: assets(t), CRDDirectories: []string{filepath.Join("..", "..", "config", "crd", "bases")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	for _, ns := range []string{Namespace, helloNS} {
		if err := cp.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	return &cluster{name: name, config: cp.Config, client: cp.Client, stop: cp.Stop}
}

// helloConfigMap creates the hello ConfigMap with data on c.
func helloConfigMap(t *testing.T, c *cluster, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: helloNS, Name: helloConfig}, Data: data}
	if err := c.client.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	return cm
}

// The script's steps against one real API server, without an agent.
func TestScriptStepsOnARealCluster(t *testing.T) {
	c := testCluster(t, "prod-us-east")
	ctx := context.Background()
	newFleet := func() (*fleet, *recordingReporter, *bytes.Buffer) {
		rep, out := &recordingReporter{}, &bytes.Buffer{}
		return &fleet{o: Options{Report: rep, Out: out, Wait: 2 * time.Second}.withDefaults(), clusters: []*cluster{c}, dir: "/demo-dir"}, rep, out
	}

	t.Run("requestFetch of a missing GitRepository names the cluster", func(t *testing.T) {
		f, _, _ := newFleet()
		err := f.requestFetches(ctx)
		if err == nil || !strings.Contains(err.Error(), "asking prod-us-east to fetch") {
			t.Errorf("requestFetches = %v, want an error naming the cluster", err)
		}
	})

	t.Run("requestFetch sets the reconcile-request annotation", func(t *testing.T) {
		src := &v1alpha1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: sourceName},
			Spec:       v1alpha1.GitRepositorySpec{URL: "https://git.example.com/fleet.git", Interval: metav1.Duration{Duration: time.Hour}},
		}
		if err := c.client.Create(ctx, src); err != nil {
			t.Fatal(err)
		}
		f, _, _ := newFleet()
		if err := f.requestFetches(ctx); err != nil {
			t.Fatal(err)
		}
		var got v1alpha1.GitRepository
		if err := c.client.Get(ctx, client.ObjectKeyFromObject(src), &got); err != nil {
			t.Fatal(err)
		}
		first := got.Annotations[v1alpha1.ReconcileRequestAnnotation]
		if first == "" {
			t.Fatalf("annotations %v: want %s", got.Annotations, v1alpha1.ReconcileRequestAnnotation)
		}
		time.Sleep(10 * time.Millisecond) // a later request is a new value
		if err := requestFetch(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := c.client.Get(ctx, client.ObjectKeyFromObject(src), &got); err != nil {
			t.Fatal(err)
		}
		if again := got.Annotations[v1alpha1.ReconcileRequestAnnotation]; again == first {
			t.Errorf("a second request kept the value %q: the agent would not fetch again", first)
		}
	})

	t.Run("showGreetings without the ConfigMap", func(t *testing.T) {
		f, _, _ := newFleet()
		err := f.showGreetings(ctx)
		if err == nil || !strings.Contains(err.Error(), "hello/hello-config") || !strings.Contains(err.Error(), "prod-us-east") {
			t.Errorf("showGreetings = %v, want an error naming the ConfigMap and the cluster", err)
		}
	})

	cm := helloConfigMap(t, c, map[string]string{"REGION": "us-east-1", greetingKey: "hello from staging"})

	t.Run("showGreetings refuses another cluster's greeting", func(t *testing.T) {
		f, rep, _ := newFleet()
		err := f.showGreetings(ctx)
		if err == nil || !strings.Contains(err.Error(), `GREETING="hello from staging"`) || !strings.Contains(err.Error(), `want "hello from prod-us-east"`) {
			t.Errorf("showGreetings = %v, want an error with the value found and the one wanted", err)
		}
		if len(rep.steps) > 0 {
			t.Errorf("steps %q reported for a wrong greeting", rep.steps)
		}
	})

	t.Run("showGreetings reports each cluster's greeting", func(t *testing.T) {
		cm.Data[greetingKey] = "hello from prod-us-east"
		if err := c.client.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
		f, rep, _ := newFleet()
		if err := f.showGreetings(ctx); err != nil {
			t.Fatal(err)
		}
		want := `✔ prod-us-east   ConfigMap hello/hello-config: GREETING="hello from prod-us-east"`
		if len(rep.steps) != 1 || rep.steps[0] != want {
			t.Errorf("steps %q, want [%q]", rep.steps, want)
		}
	})

	t.Run("handEdit waits for the revert", func(t *testing.T) {
		f, rep, out := newFleet()
		f.o.Wait = time.Minute
		// The test is the agent: it puts Git's value back once the edit lands.
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				var now corev1.ConfigMap
				if err := c.client.Get(ctx, client.ObjectKeyFromObject(cm), &now); err == nil && now.Data["REGION"] == "hand-edited" {
					now.Data["REGION"] = "us-east-1"
					_ = c.client.Update(ctx, &now)
				}
			}
		}()
		err := f.handEdit(ctx)
		close(stop)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `kubectl sets REGION=hand-edited in ConfigMap hello/hello-config (Git says "us-east-1")`) {
			t.Errorf("narration %q: want the edit and Git's value", out.String())
		}
		if len(rep.steps) == 0 || !strings.Contains(rep.steps[0], "REGION=us-east-1 again") {
			t.Errorf("steps %q: want the revert reported", rep.steps)
		}
	})

	t.Run("handEdit without a revert ends at the wait", func(t *testing.T) {
		f, _, _ := newFleet()
		f.o.Wait = 300 * time.Millisecond
		err := f.handEdit(ctx)
		if err == nil || !strings.Contains(err.Error(), "waiting for the hand edit to be reverted") {
			t.Errorf("handEdit = %v, want the wait's error", err)
		}
	})

	t.Run("converge without Stacks ends at the wait, naming the agent logs", func(t *testing.T) {
		f, rep, _ := newFleet()
		f.o.Wait = 300 * time.Millisecond
		err := f.converge(ctx, "0123456789abcdef", "rolling out")
		if err == nil || !strings.Contains(err.Error(), "rolling out to 0123456") || !strings.Contains(err.Error(), "/demo-dir") {
			t.Errorf("converge = %v, want an error naming the commit and the agent logs", err)
		}
		if len(rep.waits) == 0 || !strings.Contains(rep.waits[0], "prod-us-east 0/0") {
			t.Errorf("waiting lines %q: want the cluster's Stacks counted", rep.waits)
		}
	})

	t.Run("converge stops when an agent died", func(t *testing.T) {
		dir := t.TempDir()
		bin := filepath.Join(dir, "flotilla")
		if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 2\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		a, err := startAgent("prod-us-east", bin, "/k", filepath.Join(dir, "data"), filepath.Join(dir, "agent.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Stop()
		f, _, _ := newFleet()
		f.o.Wait = time.Minute
		f.agents = []*agentProcess{a}
		err = f.converge(ctx, "0123456789abcdef", "converging")
		if err == nil || !strings.Contains(err.Error(), "prod-us-east: the agent stopped") || !strings.Contains(err.Error(), "exit status 2") {
			t.Errorf("converge = %v, want the dead agent's cluster and exit", err)
		}
	})

	t.Run("stacksAt counts nothing on a cluster without Stacks", func(t *testing.T) {
		ready, total, ok := stacksAt(ctx, c, "main@sha1:abc")
		if ready != 0 || total != 0 || ok {
			t.Errorf("stacksAt = %d, %d, %t; want 0, 0, false", ready, total, ok)
		}
	})

	t.Run("reportDrift without the Stack reports nothing", func(t *testing.T) {
		f, rep, _ := newFleet()
		f.reportDrift(ctx, c)
		if len(rep.steps) > 0 {
			t.Errorf("steps %q, want none", rep.steps)
		}
	})
}
