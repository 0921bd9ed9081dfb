package ociimage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildError is a failed `go build`, with the compiler's output.
type BuildError struct {
	// Pkg, GOOS and GOARCH say what was built.
	Pkg, GOOS, GOARCH string
	// Output is what go build printed.
	Output string
	Err    error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("go build %s for %s/%s: %v\n%s", e.Pkg, e.GOOS, e.GOARCH, e.Err, e.Output)
}

func (e *BuildError) Unwrap() error { return e.Err }

// BuildGo builds the Go package pkg (such as ./cmd/flotilla) of the module
// in dir into the static binary out (relative to the current directory),
// for goos/goarch: CGO_ENABLED=0, -trimpath, and ldflags as given (such as
// "-s -w -X main.version=v0.1.0").
func BuildGo(ctx context.Context, dir, pkg, out, ldflags, goos, goarch string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags="+ldflags, "-o", abs, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if output, err := cmd.CombinedOutput(); err != nil {
		return &BuildError{Pkg: pkg, GOOS: goos, GOARCH: goarch, Output: string(output), Err: err}
	}
	return nil
}
