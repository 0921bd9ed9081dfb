package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/gitserve"
	"github.com/flotilla-io/flotilla/internal/stackspec"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// Names of what the benchmark creates.
const (
	benchNamespace = "flotilla-bench" // the GitRepository and the Stack
	repoName       = "fleet"          // the Git repository and the GitRepository
	stackName      = "apply"          // the Stack
	stackPath      = "apply"          // the Stack's path in the repository
	gitReadyWithin = 2 * time.Minute  // a fetch of the repository
)

// cluster is one run's fresh control plane, Git server and agent.
type cluster struct {
	o     options
	bin   string // the flotilla binary
	env   *controlplane.Env
	dir   string // the Git repositories and the agents' data and logs
	git   *gitserve.HTTPServer
	wd    *gitserve.Workdir
	agent *harness.Agent
	// agents counts the agents started, to give each its own directory.
	agents int
	// objects and run name the profiles of -profile; pprofAddr is where
	// the running agent serves them.
	objects, run int
	pprofAddr    string
}

// startCluster starts a control plane (with Flotilla's CRDs installed)
// and a smart-HTTP Git server holding an empty repository.
func startCluster(o options, bin string) (*cluster, error) {
	env, err := controlplane.Start()
	if err != nil {
		return nil, err
	}
	c := &cluster{o: o, bin: bin, env: env}
	if c.dir, err = os.MkdirTemp("", "flotilla-bench-apply-run-"); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if err := c.startGit(); err != nil {
		return nil, errors.Join(fmt.Errorf("starting the Git server: %w", err), c.stop(false))
	}
	return c, nil
}

// startGit creates the empty repository, serves it over smart HTTP and
// makes the work tree the benchmark commits from.
func (c *cluster) startGit() (err error) {
	root := &gitserve.Root{Dir: c.dir}
	if _, err := root.InitBare(repoName); err != nil {
		return err
	}
	if c.git, err = gitserve.StartHTTP(root); err != nil {
		return err
	}
	c.wd, err = gitserve.NewWorkdir(c.dir, root.Path(repoName))
	return err
}

// stop stops the agent, the Git server and the control plane. keep leaves
// the directory with the agents' logs for a failed run to be read.
func (c *cluster) stop(keep bool) error {
	if c.agent != nil {
		c.agent.Stop()
	}
	if c.git != nil {
		c.git.Close()
	}
	err := c.env.Stop()
	if keep {
		return err
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// startAgent starts a `flotilla agent` process with the benchmark's rate
// limit and extra flags, and waits for its metrics endpoint. A running
// agent is stopped first; the new one has its own log but the first
// agent's data directory.
func (c *cluster) startAgent(ctx context.Context, extra ...string) error {
	if c.agent != nil {
		c.agent.Stop()
		c.agent = nil
	}
	c.agents++
	dir := filepath.Join(c.dir, fmt.Sprintf("agent-%d", c.agents))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	qps, burst := c.o.qps()
	flags := []string{"--kube-api-qps", strconv.FormatFloat(float64(qps), 'f', -1, 32), "--kube-api-burst", strconv.Itoa(burst)}
	if c.agents > 1 {
		// A restart keeps the data directory, as a restarted container
		// keeps its volume: the artifacts are there. The last --data-dir wins.
		flags = append(flags, "--data-dir", filepath.Join(c.dir, "agent-1", "data"))
	}
	pprof, err := c.pprofFlags()
	if err != nil {
		return err
	}
	flags = append(append(flags, pprof...), extra...)
	a, err := harness.StartAgent(c.bin, c.env.Kubeconfig, dir, flags...)
	if err != nil {
		return err
	}
	c.agent = a
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return a.WaitMetrics(ctx)
}

// commit writes and removes files in the repository, commits, pushes and
// returns the revision as a GitRepository reports it.
func (c *cluster) commit(write map[string]string, remove []string, msg string) (string, error) {
	sha, err := c.push(write, remove, msg)
	if err != nil {
		return "", fmt.Errorf("pushing %q: %w", msg, err)
	}
	return "main@sha1:" + sha, nil
}

// push writes and removes files in the work tree, commits and pushes main.
func (c *cluster) push(write map[string]string, remove []string, msg string) (string, error) {
	if err := c.wd.WriteFiles(write); err != nil {
		return "", err
	}
	for _, p := range remove {
		if err := c.wd.Remove(p); err != nil {
			return "", err
		}
	}
	return c.wd.CommitAndPush(msg)
}

// createSource creates the benchmark Namespace and a GitRepository of the
// repository over smart HTTP, and waits until the agent fetched revision.
func (c *cluster) createSource(ctx context.Context, revision string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}
	if err := c.env.Client.Create(ctx, ns); err != nil {
		return err
	}
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: repoName},
		Spec:       v1alpha1.GitRepositorySpec{URL: c.git.RepoURL(repoName), Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := c.env.Client.Create(ctx, repo); err != nil {
		return err
	}
	return c.waitSource(ctx, revision)
}

// waitSource waits until the GitRepository's artifact is at revision.
func (c *cluster) waitSource(ctx context.Context, revision string) error {
	key := client.ObjectKey{Namespace: benchNamespace, Name: repoName}
	return c.poll(ctx, gitReadyWithin, "GitRepository "+key.String()+" at "+revision, func() error {
		var repo v1alpha1.GitRepository
		if err := c.env.Client.Get(ctx, key, &repo); err != nil {
			return err
		}
		if a := repo.Status.Artifact; a == nil || a.Revision != revision {
			return fmt.Errorf("artifact %+v; %s", a, conditions.ReadinessOf(&repo))
		}
		return nil
	})
}

// createStack creates the pruning Stack of stackPath: interval an hour
// (no interval reconcile during a run), no wait, maxPrunePercent 60.
func (c *cluster) createStack(ctx context.Context) error {
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: stackName},
		Spec: v1alpha1.StackSpec{
			SourceRef:       v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: repoName},
			Path:            stackPath,
			Interval:        metav1.Duration{Duration: stackInterval},
			Timeout:         &metav1.Duration{Duration: c.o.timeout},
			Prune:           true,
			MaxPrunePercent: maxPrunePercent,
		},
	}
	return c.env.Client.Create(ctx, s)
}

// stackInterval is the Stack's interval: no interval reconcile during a
// run, except where the no-op figures set a short one.
const stackInterval = time.Hour

// setInterval sets the Stack's spec.interval.
func (c *cluster) setInterval(ctx context.Context, d time.Duration) error {
	patch := fmt.Appendf(nil, `{"spec":{"interval":%q}}`, d.String())
	s := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: stackKey.Namespace, Name: stackKey.Name}}
	if err := c.env.Client.Patch(ctx, s, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("setting the interval of Stack %s to %s: %w", stackKey, d, err)
	}
	return nil
}

// maxPrunePercent lets the prune figure remove about half of the objects.
const maxPrunePercent = 60

// stackKey names the benchmark's Stack.
var stackKey = client.ObjectKey{Namespace: benchNamespace, Name: stackName}

// waitStack waits until the Stack is Ready at revision with its status
// written and, when handled is not empty, the reconcile request handled.
func (c *cluster) waitStack(ctx context.Context, revision, handled string) error {
	return c.poll(ctx, c.o.timeout, "Stack "+stackKey.String()+" Ready at "+revision, func() error {
		var s v1alpha1.Stack
		if err := c.env.Client.Get(ctx, stackKey, &s); err != nil {
			return err
		}
		switch {
		case !stackspec.ReadyAt(&s, revision):
			return fmt.Errorf("%s (observedGeneration %d of %d)", stackspec.Describe(&s), s.Status.ObservedGeneration, s.Generation)
		case handled != "" && s.Status.LastHandledReconcileAt != handled:
			return fmt.Errorf("reconcile request %s not handled yet (last handled %q)", handled, s.Status.LastHandledReconcileAt)
		}
		return nil
	})
}

// requestReconcile sets the reconcile-request annotation of obj to a fresh
// value and returns it.
func (c *cluster) requestReconcile(ctx context.Context, obj client.Object) (string, error) {
	at := v1alpha1.ReconcileRequestValue(time.Now())
	if err := c.env.Client.Patch(ctx, obj, v1alpha1.ReconcileRequestPatch(at)); err != nil {
		return "", fmt.Errorf("requesting a reconcile of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	return at, nil
}

// poll calls cond every pollInterval until it returns nil, the agent
// exits, ctx ends or the timeout passes; the error then names what was
// awaited, the last answer and the agent's log.
func (c *cluster) poll(ctx context.Context, timeout time.Duration, what string, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		last := cond()
		if last == nil {
			return nil
		}
		if err := c.agent.Exited(); err != nil {
			return fmt.Errorf("waiting for %s (%v): %w", what, last, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s: %w (agent log: %s)", timeout, what, last, c.agent.LogPath())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-time.After(pollInterval):
		}
	}
}

// pollInterval is how often the benchmark reads what it waits for.
const pollInterval = 20 * time.Millisecond
