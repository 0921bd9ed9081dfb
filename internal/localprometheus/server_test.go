package localprometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeEnv makes the test binary, run as the prometheus binary, a stand-in
// for Prometheus: "ready" serves /-/ready on --web.listen-address after
// checking --config.file exists; "fail" exits as Prometheus does on a bad
// configuration; "hang" never becomes ready.
const fakeEnv = "FLOTILLA_TEST_FAKE_PROMETHEUS"

func runFakePrometheus(mode string, args []string) int {
	flags := map[string]string{}
	for _, a := range args {
		if name, value, ok := strings.Cut(a, "="); ok {
			flags[name] = value
		}
	}
	fmt.Fprintf(os.Stderr, "fake prometheus %s: args %v\n", mode, args)
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, `Error loading config (--config.file=prometheus.yml): field not_a_field not found`)
		return 1
	case "hang":
		time.Sleep(time.Hour)
		return 0
	}
	if _, err := os.Stat(flags["--config.file"]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if flags["--storage.tsdb.path"] == "" || !strings.HasPrefix(flags["--storage.tsdb.path"], filepath.Dir(flags["--config.file"])) {
		fmt.Fprintln(os.Stderr, "storage outside the server's directory")
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Prometheus Server is Ready.") })
	fmt.Fprintln(os.Stderr, "Server is ready to receive web requests.")
	if err := http.ListenAndServe(flags["--web.listen-address"], mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// withFake runs the test binary as Prometheus, in mode.
func withFake(t *testing.T, mode string) Option {
	t.Helper()
	t.Setenv(fakeEnv, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return WithBinary(exe)
}

// privateTemp points $TMPDIR, where Start makes the server's directory,
// at a directory of the test's own, so that other tests' servers do not
// count.
func privateTemp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

// prometheusDirs lists the server directories in tmp.
func prometheusDirs(t *testing.T, tmp string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(tmp, "flotilla-prometheus-*"))
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func TestStartRunsTheBinaryAndStopRemovesItsDirectory(t *testing.T) {
	tmp := privateTemp(t)
	s, err := Start(context.Background(), withFake(t, "ready"), WithScrape(ScrapeConfig{JobName: "app", Targets: []string{"127.0.0.1:1"}}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(s.dir, "prometheus.yml"))
	if err != nil || !strings.Contains(string(cfg), `"job_name":"app"`) {
		t.Errorf("prometheus.yml = %s (%v), want the app job", cfg, err)
	}
	if fi, err := os.Stat(filepath.Join(s.dir, "prometheus.yml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("prometheus.yml mode: %v", err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %s, want loopback", s.URL())
	}
	resp, err := http.Get(s.URL() + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, flag := range []string{"--web.enable-lifecycle", "--storage.tsdb.path=" + filepath.Join(s.dir, "data")} {
		if !strings.Contains(s.Logs(), flag) {
			t.Errorf("the server was not run with %s; its log:\n%s", flag, s.Logs())
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s after Stop: %v", s.dir, err)
	}
	if s.cmd.ProcessState == nil {
		t.Error("Stop returned before the process was reaped")
	}
	if left := prometheusDirs(t, tmp); len(left) > 0 {
		t.Errorf("server directories left after Stop: %v", left)
	}
}

func TestStartFailsWithTheServersLogAndLeavesNothing(t *testing.T) {
	tmp := privateTemp(t)
	_, err := Start(context.Background(), withFake(t, "fail"), WithScrape(ScrapeConfig{JobName: "app", Targets: []string{"127.0.0.1:1"}}))
	if err == nil {
		t.Fatal("Start succeeded with a server that exits")
	}
	for _, want := range []string{"exited before it was ready", "Error loading config", "field not_a_field not found"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	// Three tries, one error each.
	if n := strings.Count(err.Error(), "exited before it was ready"); n != 3 {
		t.Errorf("%d tries reported, want 3", n)
	}
	if left := prometheusDirs(t, tmp); len(left) > 0 {
		t.Errorf("server directories left after a failed Start: %v", left)
	}
}

func TestStartGivesUpAfterTheReadyTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { time.Sleep(time.Second); cancel() }()
	_, err := Start(ctx, withFake(t, "hang"), WithReadyTimeout(300*time.Millisecond),
		WithScrape(ScrapeConfig{JobName: "app", Targets: []string{"127.0.0.1:1"}}))
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("Start = %v, want not ready", err)
	}
}

func TestStartValidatesBeforeRunningAnything(t *testing.T) {
	tmp := privateTemp(t)
	_, err := Start(context.Background(), withFake(t, "ready"), WithScrape(ScrapeConfig{JobName: "app"}))
	if err == nil || !strings.Contains(err.Error(), "neither targets nor a kubeconfig") {
		t.Errorf("Start = %v, want the scrape config refused", err)
	}
	if left := prometheusDirs(t, tmp); len(left) > 0 {
		t.Errorf("server directories left after a refused config: %v", left)
	}
}

func TestWithHostListensThere(t *testing.T) {
	// ::1 may be off on the machine; 127.0.0.2 is loopback on Linux too.
	s, err := Start(context.Background(), withFake(t, "ready"), WithHost("127.0.0.2"),
		WithScrape(ScrapeConfig{JobName: "app", Targets: []string{"127.0.0.1:1"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.2:") {
		t.Errorf("URL = %s, want the host asked for", s.URL())
	}
}

func TestBinary(t *testing.T) {
	t.Run("an explicit path", func(t *testing.T) {
		got, err := binary("/bin/sh")
		if err != nil || got != "/bin/sh" {
			t.Errorf("binary = %q, %v", got, err)
		}
	})
	t.Run("the environment", func(t *testing.T) {
		t.Setenv(BinaryEnv, "/bin/true")
		got, err := binary("")
		if err != nil || got != "/bin/true" {
			t.Errorf("binary = %q, %v, want $%s", got, err, BinaryEnv)
		}
	})
	t.Run("missing says how to install it", func(t *testing.T) {
		t.Setenv(BinaryEnv, "")
		_, err := binary("/nonexistent/prometheus")
		if err == nil || !strings.Contains(err.Error(), "/nonexistent/prometheus") || !strings.Contains(err.Error(), BinaryEnv) || !strings.Contains(err.Error(), "hack/testenv.sh") {
			t.Errorf("binary = %v, want the path, $%s and hack/testenv.sh", err, BinaryEnv)
		}
	})
	t.Run("Start reports it", func(t *testing.T) {
		if _, err := Start(context.Background(), WithBinary("/nonexistent/prometheus")); err == nil {
			t.Error("Start succeeded without a binary")
		}
	})
}

func TestFreePort(t *testing.T) {
	p, err := freePort("127.0.0.1")
	if err != nil || p <= 0 {
		t.Fatalf("freePort = %d, %v", p, err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Errorf("port %d is not free: %v", p, err)
	} else {
		l.Close()
	}
	if _, err := freePort("192.0.2.1"); err == nil || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Errorf("freePort on an address not of this machine = %v", err)
	}
}

func TestLogBuffer(t *testing.T) {
	b := &logBuffer{}
	if n, err := b.Write([]byte("hello ")); n != 6 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	_, _ = b.Write([]byte("world"))
	if b.String() != "hello world" {
		t.Errorf("String = %q", b.String())
	}
	if got := b.tail(5); got != "world" {
		t.Errorf("tail(5) = %q", got)
	}
	if got := b.tail(100); got != "hello world" {
		t.Errorf("tail(100) = %q", got)
	}
}

func TestLogBufferKeepsTheLastMegabyte(t *testing.T) {
	b := &logBuffer{}
	chunk := strings.Repeat("x", 64<<10)
	for range 20 {
		if _, err := b.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = b.Write([]byte("the end"))
	s := b.String()
	if len(s) != maxLog {
		t.Errorf("buffer holds %d bytes, want %d", len(s), maxLog)
	}
	if !strings.HasSuffix(s, "the end") {
		t.Error("the latest output was dropped")
	}
}

func TestLogBufferIsSafeForConcurrentWriters(t *testing.T) {
	b := &logBuffer{}
	done := make(chan struct{})
	for range 4 {
		go func() {
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	if n := strings.Count(b.String(), "line\n"); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}

func TestStopIsIdempotentAndKeepsTheFirstError(t *testing.T) {
	s, err := Start(context.Background(), withFake(t, "ready"), WithScrape(ScrapeConfig{JobName: "app", Targets: []string{"127.0.0.1:1"}}))
	if err != nil {
		t.Fatal(err)
	}
	first := s.Stop()
	if first != nil {
		t.Fatal(first)
	}
	if err := s.Stop(); !errors.Is(err, first) {
		t.Errorf("second Stop = %v, want the first's %v", err, first)
	}
}
