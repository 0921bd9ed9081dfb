//go:build unix

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runAsPause makes the test binary run main when this is set: the tests
// below start it as the pause program.
const runAsPause = "FLOTILLA_TEST_RUN_PAUSE"

func TestMain(m *testing.M) {
	if os.Getenv(runAsPause) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startPause runs main in a child process and waits for its ready line.
func startPause(t *testing.T) (*exec.Cmd, *strings.Builder, chan error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), runAsPause+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	out := &strings.Builder{}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if sc.Text() == readyLine {
				close(ready)
			}
		}
		done <- cmd.Wait()
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("pause exited before it was ready: %v\n%s", err, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("pause did not print %q", readyLine)
	}
	return cmd, out, done
}

func TestPauseExitsCleanlyOnATerminationSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, out, done := startPause(t)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("pause exited with %v, want 0", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("pause did not exit on %s", sig)
			}
			if want := fmt.Sprintf("pause: %s, exiting", sig); !strings.Contains(out.String(), want) {
				t.Errorf("output %q does not say %q", out, want)
			}
		})
	}
}

func TestPauseKeepsRunningOnSIGCHLD(t *testing.T) {
	cmd, out, done := startPause(t)
	if err := cmd.Process.Signal(syscall.SIGCHLD); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("pause exited on SIGCHLD: %v\n%s", err, out)
	case <-time.After(300 * time.Millisecond):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("pause exited with %v after SIGTERM", err)
	}
}

// zombie reports whether pid exists and has exited without being reaped.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] == "Z"
}

func TestReapCollectsExitedChildren(t *testing.T) {
	var pids []int
	for range 3 {
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, cmd.Process.Pid)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for !zombie(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !zombie(pid) {
			t.Fatalf("child %d did not become a zombie", pid)
		}
	}
	reap()
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
			t.Errorf("child %d was not reaped", pid)
		}
	}
	// With nothing left to reap it returns at once.
	reap()
}
