//go:build linux

// The pause program is built for, and run on, the Linux test node.

package ociimage

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is the product module's root, from this package's directory.
const moduleRoot = "../.."

func TestBuildGoBuildsThePauseProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test runs `go build` and the program it builds (run `make test`)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "pause")
	if err := BuildGo(ctx, moduleRoot, "./internal/localnode/pause", out, "-s -w", runtime.GOOS, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, stderr, "waiting for SIGTERM")
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

// waitForLine waits until r yields a line holding want.
func waitForLine(t *testing.T, r io.Reader, want string) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			return
		}
	}
	t.Fatalf("the output ended without %q", want)
}
