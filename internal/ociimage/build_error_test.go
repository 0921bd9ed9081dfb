package ociimage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestBuildErrorMessage(t *testing.T) {
	cause := errors.New("exit status 1")
	err := &BuildError{Pkg: "./cmd/flotilla", GOOS: "linux", GOARCH: "arm64", Output: "main.go:3:1: syntax error\n", Err: cause}
	if want := "go build ./cmd/flotilla for linux/arm64: exit status 1\nmain.go:3:1: syntax error\n"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, cause) {
		t.Error("a BuildError does not unwrap to its cause")
	}
}

func TestBuildGoWithACancelledContextRunsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := BuildGo(ctx, moduleRootDir, "./cmd/flotilla", filepath.Join(t.TempDir(), "flotilla"), "-s -w", "linux", "amd64")
	var berr *BuildError
	if !errors.As(err, &berr) || !errors.Is(err, context.Canceled) {
		t.Fatalf("BuildGo with a cancelled context = %v, want a BuildError wrapping context.Canceled", err)
	}
	if berr.Pkg != "./cmd/flotilla" || berr.GOOS != "linux" || berr.GOARCH != "amd64" || berr.Output != "" {
		t.Errorf("BuildError = %+v, want the package and platform, no output", berr)
	}
}

// moduleRootDir is the product module's root, from this package's
// directory (moduleRoot in the Linux-only tests).
const moduleRootDir = "../.."
