package localfleet

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeAgent writes a stand-in for the flotilla binary: a shell script that
// records its arguments in dir/args and then runs body.
func fakeAgent(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "flotilla")
	script := "#!/bin/sh\necho \"$@\" > '" + filepath.Join(dir, "args") + "'\n" + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartAgentPassesTheFlagsAndStops(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{
		Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d",
		LogFile: filepath.Join(dir, "agent.log"), Metrics: true, Webhooks: true, AllowFileURLs: true,
		Args: []string{"--kube-api-qps", "5"}, StopGrace: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	args := waitForFile(t, filepath.Join(dir, "args"))
	want := "agent --kubeconfig /k --data-dir /d --metrics-addr " + strings.TrimSuffix(strings.TrimPrefix(a.MetricsURL(), "http://"), "/metrics") +
		" --health-addr 0 --webhook-addr " + a.WebhookAddr() + " --log-format json --allow-file-urls --kube-api-qps 5\n"
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("command line (-want +got):\n%s", diff)
	}
	if err := a.Exited(); err != nil {
		t.Fatalf("a running agent: Exited() = %v", err)
	}
	if a.LogPath() != filepath.Join(dir, "agent.log") || a.PID() <= 0 {
		t.Errorf("LogPath %q, PID %d", a.LogPath(), a.PID())
	}
	a.Stop()
	if err := a.Exited(); err == nil || !strings.Contains(err.Error(), "agent.log") {
		t.Errorf("a stopped agent: Exited() = %v, want an error naming its log", err)
	}
}

func TestStartAgentWithoutServersTurnsThemOff(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d", LogFile: filepath.Join(dir, "agent.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	args := waitForFile(t, filepath.Join(dir, "args"))
	if !strings.Contains(args, "--metrics-addr 0 --health-addr 0 --webhook-addr 0 ") || strings.Contains(args, "--allow-file-urls") {
		t.Errorf("command line %q: want every server off and no file URLs", args)
	}
	if a.MetricsURL() != "" || a.WebhookAddr() != "" {
		t.Errorf("MetricsURL %q, WebhookAddr %q: want none", a.MetricsURL(), a.WebhookAddr())
	}
	if err := a.WaitMetrics(context.Background()); err == nil {
		t.Error("WaitMetrics without metrics: want an error")
	}
}

func TestWaitMetricsSeesTheEndpoint(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d",
		LogFile: filepath.Join(dir, "agent.log"), Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	// The stand-in serves nothing: the test serves the metrics port it was given.
	ln, err := net.Listen("tcp", strings.TrimSuffix(strings.TrimPrefix(a.MetricsURL(), "http://"), "/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("up 1\n")) })}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.WaitMetrics(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWaitMetricsReportsAnAgentThatExited(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, "echo 'no cluster' >&2; exit 3"), Kubeconfig: "/k", DataDir: "/d",
		LogFile: filepath.Join(dir, "agent.log"), Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = a.WaitMetrics(ctx)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("WaitMetrics = %v, want the agent's exit status", err)
	}
	a.Stop()
	if log, _ := os.ReadFile(a.LogPath()); !strings.Contains(string(log), "no cluster") {
		t.Errorf("log %q: want the agent's stderr", log)
	}
}

func TestStartAgentReportsAMissingBinary(t *testing.T) {
	dir := t.TempDir()
	_, err := StartAgent(AgentOptions{Binary: filepath.Join(dir, "missing"), Kubeconfig: "/k", DataDir: "/d", LogFile: filepath.Join(dir, "agent.log")})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("StartAgent = %v, want an error naming the binary", err)
	}
}

func TestFreeLoopbackAddr(t *testing.T) {
	addr, err := FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s is not free: %v", addr, err)
	}
	ln.Close()
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("host %s, want 127.0.0.1", host)
	}
}

// waitForFile returns the content of path once the process wrote it.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was never written: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
