package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func TestTryIt(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fleet
		want string
	}{
		{
			name: "without --keep",
			f:    fleet{o: Options{Clusters: DefaultClusters}, kubeconfig: "/d/kubeconfig", dir: "/d"},
			want: "\nThe fleet's kubeconfig has a context per cluster: staging, prod-us-east, prod-eu-west\n" +
				"Run `flotilla demo --keep` to keep it running and try the CLI and the dashboard on it.\n",
		},
		{
			name: "with --keep and a dashboard",
			f:    fleet{o: Options{Clusters: DefaultClusters, Keep: true}, kubeconfig: "/d/kubeconfig", dir: "/d", dashboardURL: "http://127.0.0.1:9400/"},
			want: "\nThe fleet's kubeconfig has a context per cluster: staging, prod-us-east, prod-eu-west\n" +
				"In another terminal:\n  export KUBECONFIG=/d/kubeconfig\n" +
				"  flotilla get stacks --all-contexts\n" +
				"  flotilla tree stack cluster --context staging\n" +
				"  flotilla drift --all-namespaces --context prod-us-east\n" +
				"  flotilla reconcile stack apps --with-source --context staging\n" +
				"Dashboard: http://127.0.0.1:9400/ (the fleet, live)\n" +
				"Agent logs are in /d.\n",
		},
		{
			// With one cluster the hand edit was on it, and so is the drift command.
			name: "with --keep, one cluster, no dashboard",
			f:    fleet{o: Options{Clusters: []string{"prod-eu-west"}, Keep: true}, kubeconfig: "/d/kubeconfig", dir: "/d"},
			want: "\nThe fleet's kubeconfig has a context per cluster: prod-eu-west\n" +
				"In another terminal:\n  export KUBECONFIG=/d/kubeconfig\n" +
				"  flotilla get stacks --all-contexts\n" +
				"  flotilla tree stack cluster --context prod-eu-west\n" +
				"  flotilla drift --all-namespaces --context prod-eu-west\n" +
				"  flotilla reconcile stack apps --with-source --context prod-eu-west\n" +
				"Agent logs are in /d.\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tc.f.o.Out = &out
			tc.f.tryIt()
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("tryIt (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShowFleet(t *testing.T) {
	var out bytes.Buffer
	f := &fleet{o: Options{Out: &out}, kubeconfig: "/d/kubeconfig"}
	f.showFleet(t.Context())
	if out.Len() > 0 {
		t.Errorf("showFleet without ShowFleet wrote %q", out.String())
	}
	var gotKubeconfig string
	f.o.ShowFleet = func(_ context.Context, kubeconfig string, w io.Writer) error {
		gotKubeconfig = kubeconfig
		_, _ = io.WriteString(w, "NAME READY\n")
		return errors.New("context prod-eu-west: connection refused")
	}
	f.showFleet(t.Context())
	want := "\n$ flotilla get stacks --all-contexts\nNAME READY\n(context prod-eu-west: connection refused)\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("showFleet (-want +got):\n%s", diff)
	}
	if gotKubeconfig != "/d/kubeconfig" {
		t.Errorf("ShowFleet got kubeconfig %q, want the fleet's", gotKubeconfig)
	}
}

// startAgents writes each node-less cluster its own kubeconfig and runs an
// agent on it; a cluster with a node gets none (its agent is a Pod).
func TestStartAgentsRunsOneAgentPerClusterWithoutANode(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "flotilla")
	// The stand-in records its arguments beside its data directory.
	script := "#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --data-dir ]; then d=$2; fi; shift; done\necho started > \"$d.started\"\nexec sleep 60\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rep := &recordingReporter{}
	f := &fleet{o: Options{AgentBinary: bin, Report: rep}, dir: dir, clusters: []*cluster{
		{name: "prod-us-east", config: &rest.Config{Host: "https://127.0.0.1:1001", BearerToken: "east"}},
		{name: "prod-eu-west", config: &rest.Config{Host: "https://127.0.0.1:1002", BearerToken: "west"}},
	}}
	defer func() {
		for _, a := range f.agents {
			a.Stop()
		}
	}()
	if err := f.startAgents(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range f.agents {
		names = append(names, a.cluster)
		if a.WebhookAddr() == "" {
			t.Errorf("agent of %s serves no webhooks: the demo posts to them", a.cluster)
		}
		if a.LogPath() != filepath.Join(dir, "agent-"+a.cluster+".log") {
			t.Errorf("agent of %s logs to %s", a.cluster, a.LogPath())
		}
	}
	if diff := cmp.Diff([]string{"prod-us-east", "prod-eu-west"}, names); diff != "" {
		t.Errorf("agents (-want +got):\n%s", diff)
	}
	for _, c := range f.clusters {
		cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, c.name+".kubeconfig"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.CurrentContext != c.name || len(cfg.Contexts) != 1 || cfg.Clusters[c.name].Server != c.config.Host {
			t.Errorf("%s's kubeconfig: current %q, %d contexts, server %v; want its own cluster only", c.name, cfg.CurrentContext, len(cfg.Contexts), cfg.Clusters[c.name])
		}
		waitFor(t, filepath.Join(dir, "agent-"+c.name+".started"))
	}
	if len(rep.steps) != 1 || !strings.Contains(rep.steps[0], "started an agent beside each cluster without a node") {
		t.Errorf("steps %q", rep.steps)
	}
}

func TestStartAgentsWithoutNodelessClustersReportsNothing(t *testing.T) {
	rep := &recordingReporter{}
	f := &fleet{o: Options{AgentBinary: "/no/such/flotilla", Report: rep}, dir: t.TempDir()}
	if err := f.startAgents(); err != nil {
		t.Fatal(err)
	}
	if len(f.agents) > 0 || len(rep.steps) > 0 {
		t.Errorf("agents %d, steps %q: want none", len(f.agents), rep.steps)
	}
}

func TestStartAgentsReportsAMissingBinary(t *testing.T) {
	dir := t.TempDir()
	f := &fleet{o: Options{AgentBinary: filepath.Join(dir, "missing-flotilla"), Report: &recordingReporter{}}, dir: dir,
		clusters: []*cluster{{name: "prod-us-east", config: &rest.Config{Host: "https://127.0.0.1:1001"}}}}
	err := f.startAgents()
	if err == nil || !strings.Contains(err.Error(), "missing-flotilla") {
		t.Errorf("startAgents = %v, want an error naming the binary", err)
	}
}

// waitFor waits until path exists.
func waitFor(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
