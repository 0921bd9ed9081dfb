package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
)

// profiledPlan runs timePlan, under a CPU profile written to path when
// path is not empty: the plan alone, never the kustomize baseline.
func profiledPlan(ctx context.Context, f fixture, tmp, path string) (planResult, error) {
	if path == "" {
		return timePlan(ctx, f, tmp)
	}
	out, err := os.Create(path)
	if err != nil {
		return planResult{}, fmt.Errorf("-cpuprofile: %w", err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return planResult{}, fmt.Errorf("-cpuprofile: %w", err)
	}
	defer pprof.StopCPUProfile()
	return timePlan(ctx, f, tmp)
}

// profilePath is where run i (from 0) writes its profile: path itself for
// the first run, path.2, path.3... for the next (go tool pprof merges
// them when given all).
func profilePath(path string, i int) string {
	if path == "" || i == 0 {
		return path
	}
	return fmt.Sprintf("%s.%d", path, i+1)
}
