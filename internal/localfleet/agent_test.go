package localfleet

import (
	"context"
	"errors"
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

// Each required field missing is refused before anything runs, naming the
// field: an agent without a kubeconfig would serve whatever cluster its
// environment points at.
func TestStartAgentRefusesMissingRequiredFields(t *testing.T) {
	dir := t.TempDir()
	full := AgentOptions{Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d", LogFile: filepath.Join(dir, "agent.log")}
	for _, tc := range []struct {
		field string
		clear func(*AgentOptions)
	}{
		{"Binary", func(o *AgentOptions) { o.Binary = "" }},
		{"Kubeconfig", func(o *AgentOptions) { o.Kubeconfig = "" }},
		{"DataDir", func(o *AgentOptions) { o.DataDir = "" }},
		{"LogFile", func(o *AgentOptions) { o.LogFile = "" }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			o := full
			tc.clear(&o)
			a, err := StartAgent(o)
			if err == nil {
				a.Stop()
				t.Fatalf("StartAgent without %s started an agent", tc.field)
			}
			if !strings.Contains(err.Error(), "AgentOptions."+tc.field) {
				t.Errorf("StartAgent without %s = %q, want an error naming the field", tc.field, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "args")); !os.IsNotExist(err) {
				t.Errorf("the binary ran without %s", tc.field)
			}
		})
	}
}

// Exited names the log once, whether the agent failed or exited cleanly.
func TestExitedNamesTheLogOnce(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"clean exit", "exit 0", "the agent exited"},
		{"failure", "exit 4", "exit status 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, tc.body), Kubeconfig: "/k", DataDir: "/d", LogFile: filepath.Join(dir, "agent.log")})
			if err != nil {
				t.Fatal(err)
			}
			<-a.done
			a.Stop()
			err = a.Exited()
			if err == nil {
				t.Fatal("Exited() = nil after the agent exited")
			}
			msg := err.Error()
			if n := strings.Count(msg, a.LogPath()); n != 1 || !strings.Contains(msg, tc.want) {
				t.Errorf("Exited() = %q: want %q and the log path once (found %d times)", msg, tc.want, n)
			}
		})
	}
}

// Stop kills an agent that ignores SIGTERM once the grace is over.
func TestStopKillsAnAgentThatIgnoresSIGTERM(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{
		Binary:     fakeAgent(t, dir, "trap '' TERM; echo trapped > '"+filepath.Join(dir, "ready")+"'; while :; do sleep 1; done"),
		Kubeconfig: "/k", DataDir: "/d", LogFile: filepath.Join(dir, "agent.log"), StopGrace: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitForFile(t, filepath.Join(dir, "ready"))
	a.Stop()
	err = a.Exited()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Exited() after Stop = %v, want the agent killed", err)
	}
}

func TestStartAgentDefaultsTheStopGrace(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d", LogFile: filepath.Join(dir, "agent.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if a.grace != DefaultStopGrace {
		t.Errorf("grace %s, want DefaultStopGrace %s", a.grace, DefaultStopGrace)
	}
}

func TestStartAgentReportsAnUnwritableLog(t *testing.T) {
	dir := t.TempDir()
	bin := fakeAgent(t, dir, "exec sleep 60")
	log := filepath.Join(dir, "no-such-dir", "agent.log")
	_, err := StartAgent(AgentOptions{Binary: bin, Kubeconfig: "/k", DataDir: "/d", LogFile: log})
	if err == nil || !strings.Contains(err.Error(), log) {
		t.Errorf("StartAgent = %v, want an error naming the log %s", err, log)
	}
	if _, err := os.Stat(filepath.Join(dir, "args")); !os.IsNotExist(err) {
		t.Error("the binary ran without its log")
	}
}

func TestWaitMetricsEndsWithTheContext(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d",
		LogFile: filepath.Join(dir, "agent.log"), Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = a.WaitMetrics(ctx)
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), a.MetricsURL()) {
		t.Errorf("WaitMetrics with an ended context = %v, want context.Canceled naming %s", err, a.MetricsURL())
	}
}

// A metrics endpoint that answers but not 200 is not served yet.
func TestWaitMetricsWaitsForA200(t *testing.T) {
	dir := t.TempDir()
	a, err := StartAgent(AgentOptions{Binary: fakeAgent(t, dir, "exec sleep 60"), Kubeconfig: "/k", DataDir: "/d",
		LogFile: filepath.Join(dir, "agent.log"), Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	ln, err := net.Listen("tcp", strings.TrimSuffix(strings.TrimPrefix(a.MetricsURL(), "http://"), "/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := a.WaitMetrics(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitMetrics against a 503 = %v, want it to wait until the context ends", err)
	}
}
