package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// pprofFlags returns the agent flags that serve its profiles when -profile
// asks for them, and remembers the address.
func (c *cluster) pprofFlags() ([]string, error) {
	if c.o.profile == "" {
		return nil, nil
	}
	addr, err := harness.PprofAddr()
	if err != nil {
		return nil, err
	}
	c.pprofAddr = addr
	return []string{"--pprof-addr", addr}, nil
}

// profiled runs phase with the agent's CPU profile recorded over it, when
// -profile names a directory: <dir>/<phase>-<n>-run<i>.cpu.pprof, and the
// heap once the phase is over in <...>.heap.pprof.
func (c *cluster) profiled(ctx context.Context, phase string, fn func() error) error {
	if c.o.profile == "" {
		return fn()
	}
	name := filepath.Join(c.o.profile, fmt.Sprintf("%s-%d-run%d", phase, c.objects, c.run+1))
	p := harness.StartCPUProfile(ctx, c.pprofAddr)
	err := fn()
	err = errors.Join(err, p.Stop(name+".cpu.pprof"))
	return errors.Join(err, harness.WriteHeapProfile(ctx, c.pprofAddr, name+".heap.pprof"))
}
