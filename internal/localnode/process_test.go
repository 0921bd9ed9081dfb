package localnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startShell starts sh -c script as a component named name, its log in a
// temporary directory, and stops it at the end of the test.
func startShell(t *testing.T, name, script string) *process {
	t.Helper()
	p, err := startProcess(t.TempDir(), name, "/bin/sh", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(time.Second) })
	return p
}

// waitExited waits up to 10 s for p to end.
func waitExited(t *testing.T, p *process) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not exit", p.name)
	}
}

// waitLog waits up to 10 s for p's log to hold want and returns the log.
func waitLog(t *testing.T, p *process, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(p.logFile)
		if strings.Contains(string(data), want) {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("log of %s has no %q:\n%s", p.name, want, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie, killed but not reaped, does
// not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func TestStartProcessWritesOutputAndErrorsToItsLog(t *testing.T) {
	p := startShell(t, "echoer", "echo to-stdout; echo to-stderr >&2")
	waitExited(t, p)
	if !strings.HasSuffix(p.logFile, "/echoer.log") {
		t.Errorf("log file %s, want echoer.log", p.logFile)
	}
	log := waitLog(t, p, "to-stderr")
	if !strings.Contains(log, "to-stdout") {
		t.Errorf("log = %q, want both streams", log)
	}
	if p.err != nil {
		t.Errorf("exit error %v, want none", p.err)
	}
}

func TestStartProcessPutsTheComponentInItsOwnProcessGroup(t *testing.T) {
	p := startShell(t, "sleeper", "sleep 300")
	pgid, err := syscall.Getpgid(p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if pgid != p.cmd.Process.Pid {
		t.Errorf("process group %d, want its own (%d): stop signals the group", pgid, p.cmd.Process.Pid)
	}
}

func TestStartProcessErrors(t *testing.T) {
	t.Run("a binary that does not exist names the step and the log", func(t *testing.T) {
		dir := t.TempDir()
		_, err := startProcess(dir, "kubelet", "/nonexistent/kubelet")
		var step *StepError
		if !errors.As(err, &step) || step.Step != "kubelet" || step.Log != dir+"/kubelet.log" {
			t.Fatalf("error = %#v, want a StepError for kubelet with its log", err)
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error = %v, want it to wrap the cause", err)
		}
	})
	t.Run("a log directory that does not exist", func(t *testing.T) {
		_, err := startProcess("/nonexistent/logs", "etcd", "/bin/true")
		var step *StepError
		if !errors.As(err, &step) || step.Step != "etcd" || step.Log != "" {
			t.Fatalf("error = %#v, want a StepError for etcd without a log", err)
		}
	})
}

func TestStepError(t *testing.T) {
	cause := errors.New("exit status 1")
	tests := []struct {
		name string
		err  *StepError
		want string
	}{
		{"without-log", &StepError{Step: "preflight", Err: cause}, "test ground: preflight: exit status 1"},
		{"with-log", &StepError{Step: "kubelet", Log: "/tmp/l/kubelet.log", Err: cause}, "test ground: kubelet: exit status 1 (log: /tmp/l/kubelet.log)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, cause) {
				t.Error("errors.Is does not find the cause")
			}
		})
	}
}

func TestFailSaysWhenTheProcessExited(t *testing.T) {
	running := startShell(t, "running", "sleep 300")
	err := running.fail(errors.New("no answer"))
	if strings.Contains(err.Error(), "exited") {
		t.Errorf("fail of a running process = %v, want no exit mentioned", err)
	}
	gone := startShell(t, "gone", "exit 3")
	waitExited(t, gone)
	err = gone.fail(errors.New("no answer"))
	if !strings.Contains(err.Error(), "the process exited: exit status 3") || !strings.Contains(err.Error(), gone.logFile) {
		t.Errorf("fail of an exited process = %v, want its exit status and log", err)
	}
}

func TestWaitReady(t *testing.T) {
	t.Run("returns once the check passes", func(t *testing.T) {
		p := startShell(t, "ready", "sleep 300")
		calls := 0
		err := p.waitReady(context.Background(), time.Minute, func(context.Context) error {
			if calls++; calls < 3 {
				return errors.New("not yet")
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Errorf("waitReady = %v after %d checks, want nil after 3", err, calls)
		}
	})
	t.Run("gives up after the timeout with the last error", func(t *testing.T) {
		p := startShell(t, "slow", "sleep 300")
		err := p.waitReady(context.Background(), 500*time.Millisecond, func(context.Context) error {
			return errors.New("connection refused")
		})
		var step *StepError
		if !errors.As(err, &step) || step.Step != "slow" {
			t.Fatalf("error = %v, want a StepError for slow", err)
		}
		if !strings.Contains(err.Error(), "not ready after 500ms: connection refused") {
			t.Errorf("error = %v, want the timeout and the last check error", err)
		}
	})
	t.Run("stops when the process exits", func(t *testing.T) {
		p := startShell(t, "crasher", "echo bad flag >&2; exit 2")
		err := p.waitReady(context.Background(), time.Minute, func(context.Context) error {
			return errors.New("connection refused")
		})
		if err == nil || !strings.Contains(err.Error(), "exit status 2") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("error = %v, want the exit status and the last check error", err)
		}
	})
	t.Run("stops when the context ends", func(t *testing.T) {
		p := startShell(t, "waiting", "sleep 300")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := p.waitReady(ctx, time.Minute, func(context.Context) error { return errors.New("not yet") })
		if err == nil || !strings.Contains(err.Error(), "not ready") {
			t.Errorf("error = %v, want not ready", err)
		}
	})
	t.Run("a check another process answers is not the component's", func(t *testing.T) {
		// The component could not bind its port (another process took it
		// after it was picked) and exited; the other process answers.
		other, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		p := startShell(t, "etcd", "echo address already in use >&2; exit 1")
		waitExited(t, p)
		err = p.waitReady(context.Background(), time.Minute, func(ctx context.Context) error {
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", other.Addr().String())
			if err == nil {
				conn.Close()
			}
			return err
		})
		if err == nil {
			t.Fatal("waitReady accepted an answer from another process on the port")
		}
		if !strings.Contains(err.Error(), "another process answers on its port") || !strings.Contains(err.Error(), "exit status 1") {
			t.Errorf("error = %v, want it to say another process answers and how the component exited", err)
		}
	})
}

func TestStop(t *testing.T) {
	t.Run("SIGTERM ends a process that handles it", func(t *testing.T) {
		p := startShell(t, "polite", "trap 'echo got TERM; exit 0' TERM; echo trapped; while :; do sleep 0.1; done")
		waitLog(t, p, "trapped")
		p.stop(time.Minute)
		if !p.exited() {
			t.Fatal("the process still runs after stop")
		}
		waitLog(t, p, "got TERM")
	})
	t.Run("SIGKILL after the grace period ends one that ignores SIGTERM", func(t *testing.T) {
		p := startShell(t, "stubborn", "trap '' TERM; echo trapped; while :; do sleep 0.1; done")
		waitLog(t, p, "trapped")
		p.stop(300 * time.Millisecond)
		if !p.exited() {
			t.Fatal("the process still runs after stop")
		}
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("exit = %v, want killed by SIGKILL", p.cmd.ProcessState)
		}
	})
	t.Run("what the leader left in its group is killed after it exited", func(t *testing.T) {
		// containerd, say, exits and leaves a child in its group.
		p := startShell(t, "leader", "sleep 300 & echo child=$!; exit 0")
		log := waitLog(t, p, "child=")
		waitExited(t, p)
		child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(log, "child=")))
		if err != nil {
			t.Fatalf("log %q: %v", log, err)
		}
		t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
		if !alive(child) {
			t.Fatalf("child %d is not running before stop", child)
		}
		p.stop(time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for alive(child) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(child) {
			t.Errorf("child %d of the exited leader still runs after stop", child)
		}
	})
	t.Run("twice, and on nil, does nothing", func(t *testing.T) {
		p := startShell(t, "twice", "sleep 300")
		p.stop(time.Second)
		p.stop(time.Second)
		var none *process
		none.stop(time.Second)
		if !p.exited() {
			t.Error("not stopped")
		}
	})
}

func TestFreePorts(t *testing.T) {
	got, err := freePorts("127.0.0.1", 13)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 13 {
		t.Fatalf("%d ports, want 13", len(got))
	}
	seen := map[int]bool{}
	for _, p := range got {
		if seen[p] {
			t.Errorf("port %d picked twice", p)
		}
		seen[p] = true
		// Below the kernel's ephemeral range, where outgoing connections
		// could take one before its component binds it.
		if p < portRangeLow || p >= portRangeHigh {
			t.Errorf("port %d outside [%d, %d)", p, portRangeLow, portRangeHigh)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d is not free: %v", p, err)
			continue
		}
		l.Close()
	}
}

func TestFreePortsFailsOnAnAddressNotOfThisMachine(t *testing.T) {
	// 192.0.2.0/24 is TEST-NET-1: nothing can listen there.
	_, err := freePorts("192.0.2.1", 2)
	if err == nil || !strings.Contains(err.Error(), "no 2 free ports on 192.0.2.1") {
		t.Errorf("error = %v, want one naming the count and the host", err)
	}
}

func TestPickPortsGivesEveryComponentItsOwnPort(t *testing.T) {
	p, err := pickPorts()
	if err != nil {
		t.Fatal(err)
	}
	all := []int{p.EtcdClient, p.EtcdPeer, p.APIServer, p.ControllerManager, p.Scheduler, p.Kubelet,
		p.KubeletHealthz, p.ProxyHealthz, p.ProxyMetrics, p.Stream, p.Registry, p.DNSHealth, p.DNSReady}
	seen := map[int]bool{}
	for _, port := range all {
		if port == 0 || seen[port] {
			t.Errorf("ports %+v: %d is zero or shared", p, port)
		}
		seen[port] = true
	}
}
