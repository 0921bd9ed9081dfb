package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/fleet"
	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// fixture is the generated fleet: a Git repository whose HEAD changes a
// ConfigMap of the shared infrastructure base, and both revisions checked
// out as plain directories for the baseline.
type fixture struct {
	repo, baseDir, headDir string
	files                  int
}

func makeFixture(tmp string, o options) (fixture, error) {
	files := fleettest.Files(fleettest.Options{Clusters: o.clusters, Objects: o.objects})
	f := fixture{repo: filepath.Join(tmp, "repo"), baseDir: filepath.Join(tmp, "base"), headDir: filepath.Join(tmp, "head"), files: len(files)}
	old := files[fleettest.SharedConfigMap]
	changed := strings.Replace(old, `value: "value-12"`, `value: "value-changed"`, 1)
	if changed == old {
		return f, fmt.Errorf("%s does not hold the value the benchmark changes", fleettest.SharedConfigMap)
	}
	change := map[string]string{fleettest.SharedConfigMap: changed}
	if err := fleettest.InitRepo(f.repo, files); err != nil {
		return f, err
	}
	if err := fleettest.Commit(f.repo, change, "change the shared base"); err != nil {
		return f, err
	}
	if err := fleettest.Write(f.baseDir, files); err != nil {
		return f, err
	}
	if err := fleettest.Write(f.headDir, files); err != nil {
		return f, err
	}
	return f, fleettest.Write(f.headDir, change)
}

// planResult is one timed run of flotilla plan.
type planResult struct {
	wall           time.Duration
	changed, total int
	builds, reused int64
	substituted    int64
}

// timePlan runs what `flotilla plan --base HEAD~1 --head HEAD` runs:
// open the repository, read both revisions, plan.
func timePlan(ctx context.Context, f fixture, tmp string) (planResult, error) {
	start := time.Now()
	repo, err := fleet.OpenRepo(f.repo)
	if err != nil {
		return planResult{}, err
	}
	base, head, br, hr, err := fleet.Snapshots(repo, "HEAD~1", "HEAD")
	if err != nil {
		return planResult{}, err
	}
	o := fleet.DefaultOptions(base, head)
	o.BaseRevision, o.HeadRevision, o.TempDir = br, hr, tmp
	res, err := fleet.Plan(ctx, o)
	if err != nil {
		return planResult{}, err
	}
	wall := time.Since(start)
	if fails := res.Failures(); len(fails) > 0 {
		return planResult{}, fmt.Errorf("the plan has render failures: %+v", fails)
	}
	changed, _, _ := res.Count()
	return planResult{wall: wall, changed: changed, total: len(res.Clusters), builds: res.Renders.Builds, reused: res.Renders.Reused, substituted: res.Renders.Substituted}, nil
}

// timeKustomize runs `kustomize build` for every path of every cluster at
// the base, then at the head, one after another, output discarded.
func timeKustomize(ctx context.Context, kustomize string, f fixture, clusters int) (time.Duration, int, error) {
	start := time.Now()
	n := 0
	for _, dir := range []string{f.baseDir, f.headDir} {
		for i := range clusters {
			for _, p := range fleettest.RenderPaths(i) {
				cmd := exec.CommandContext(ctx, kustomize, "build", p)
				var stderr strings.Builder
				cmd.Dir, cmd.Stdout, cmd.Stderr = dir, io.Discard, &stderr
				if err := cmd.Run(); err != nil {
					return 0, n, fmt.Errorf("kustomize build %s: %w: %s", p, err, stderr.String())
				}
				n++
			}
		}
	}
	return time.Since(start), n, nil
}

// findKustomize returns the kustomize binary of the baseline, installing
// the pinned release with go install when it is missing.
func findKustomize(path string, log *harness.Progress) (string, error) {
	if path != "" {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(home, ".cache", "flotilla", "tools", "kustomize-"+kustomizeVersion)
	exe := filepath.Join(bin, "kustomize")
	if _, err := os.Stat(exe); err == nil {
		return exe, nil
	}
	log.Printf("installing kustomize %s into %s", kustomizeVersion, bin)
	cmd := exec.Command("go", "install", "sigs.k8s.io/kustomize/kustomize/v5@"+kustomizeVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("installing kustomize %s: %w: %s", kustomizeVersion, err, out)
	}
	return exe, nil
}
