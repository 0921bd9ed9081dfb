package ociimage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is the product module's root, from this package's directory.
const moduleRoot = "../.."

func TestBuildGoBuildsThePauseProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the pause program is for the Linux test node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "pause")
	if err := BuildGo(ctx, moduleRoot, "./test/node/pause", out, "-s -w", runtime.GOOS, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForHandler(t, cmd.Process.Pid, syscall.SIGTERM)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("pause after SIGTERM: %v, want exit 0", err)
	}
}

func TestBuildGoReportsTheCompilerOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := BuildGo(ctx, moduleRoot, "./does/not/exist", filepath.Join(t.TempDir(), "x"), "", "linux", "amd64")
	var berr *BuildError
	if !errors.As(err, &berr) {
		t.Fatalf("error = %v, want a *BuildError", err)
	}
	if !strings.Contains(err.Error(), "go build ./does/not/exist for linux/amd64") || berr.Output == "" {
		t.Errorf("error = %q, want the package, the platform and go's output", err)
	}
}

// waitForHandler waits until process pid catches sig (SigCgt in
// /proc/<pid>/status), so sending it does not kill the process by default.
func waitForHandler(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			mask, ok := strings.CutPrefix(line, "SigCgt:")
			if !ok {
				continue
			}
			if bits, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64); err == nil && bits&(1<<(sig-1)) != 0 {
				return
			}
		}
	}
	t.Fatalf("process %d never caught %s", pid, sig)
}
