package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// wave is one convergence of the fleet: per cluster, the time from the
// start until its Stack was Ready at the revision.
type wave struct {
	perCluster []time.Duration
}

// all is the time until every cluster was Ready.
func (w wave) all() time.Duration { return slices.Max(w.perCluster) }

// fastest is the time of the first cluster Ready.
func (w wave) fastest() time.Duration { return slices.Min(w.perCluster) }

// converge runs kick on every cluster at once and waits until each
// cluster's Stack is Ready at revision; the clock starts at t0.
func (f *fleet) converge(ctx context.Context, t0 time.Time, revision string, timeout time.Duration, kick func(context.Context, int) error) (wave, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w := wave{perCluster: make([]time.Duration, len(f.shared.Clusters))}
	errs := make([]error, len(w.perCluster))
	var wg sync.WaitGroup
	for i := range w.perCluster {
		wg.Go(func() {
			if err := kick(ctx, i); err != nil {
				errs[i] = fmt.Errorf("%s: %w", f.shared.Clusters[i].Name, err)
				return
			}
			if err := f.waitReady(ctx, i, revision); err != nil {
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					err = fmt.Errorf("-timeout %s passed: %w", timeout, err)
				}
				errs[i] = f.explain(i, revision, err)
				return
			}
			w.perCluster[i] = time.Since(t0)
		})
	}
	wg.Wait()
	return w, errors.Join(errs...)
}

// createSyncObjects creates the GitRepository and the Stack of cluster i.
func (f *fleet) createSyncObjects(ctx context.Context, i int) error {
	return f.createSync(ctx, i)
}

// warmUp creates the sync objects of cluster i in a server-side dry-run:
// kube-apiserver delays every create of a custom resource by 2 s while its
// CRD has been Established for less than 2 s (customresource_handler.go),
// a wait that belongs to the CRDs' install, not to the convergence.
func (f *fleet) warmUp(ctx context.Context, i int) error {
	return f.createSync(ctx, i, client.DryRunAll)
}

func (f *fleet) createSync(ctx context.Context, i int, opts ...client.CreateOption) error {
	c := f.shared.Clusters[i]
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: syncNamespace, Name: syncName},
		Spec:       v1alpha1.GitRepositorySpec{URL: f.git.RepoURL(syncName), Interval: metav1.Duration{Duration: repoInterval}},
	}
	stack := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: syncNamespace, Name: syncName},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: syncName},
			Path:      clusterPath(c.Name),
			Interval:  metav1.Duration{Duration: stackInterval},
			Prune:     true,
		},
	}
	for _, o := range []client.Object{repo, stack} {
		if err := c.Client.Create(ctx, o, opts...); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// requestReconcile sets the reconcile-request annotation of cluster i's
// GitRepository, as a webhook receiver does on a push.
func (f *fleet) requestReconcile(ctx context.Context, i int) error {
	repo := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: syncNamespace, Name: syncName}}
	if err := f.shared.Clusters[i].Client.Patch(ctx, repo, v1alpha1.ReconcileRequestPatch(v1alpha1.ReconcileRequestValue(time.Now()))); err != nil {
		return fmt.Errorf("requesting a reconcile of GitRepository %s/%s: %w", syncNamespace, syncName, err)
	}
	return nil
}

// waitReady watches cluster i's Stack until it is Ready at revision.
func (f *fleet) waitReady(ctx context.Context, i int, revision string) error {
	c := f.watches[i]
	opts := func(o metav1.ListOptions) []client.ListOption {
		return []client.ListOption{client.InNamespace(syncNamespace), &client.ListOptions{Raw: &o}}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			var l v1alpha1.StackList
			return &l, c.List(ctx, &l, opts(o)...)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return c.Watch(ctx, &v1alpha1.StackList{}, opts(o)...)
		},
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &v1alpha1.Stack{}, nil, func(e watch.Event) (bool, error) {
		s, ok := e.Object.(*v1alpha1.Stack)
		return ok && s.Name == syncName && stackspec.ReadyAt(s, revision), nil
	})
	return err
}

// explain names the cluster that did not converge, its Stack's Ready
// condition and its agent's log.
func (f *fleet) explain(i int, revision string, err error) error {
	c := f.shared.Clusters[i]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	state := "the Stack cannot be read"
	var s v1alpha1.Stack
	if getErr := c.Client.Get(ctx, client.ObjectKey{Namespace: syncNamespace, Name: syncName}, &s); getErr == nil {
		state = stackspec.Describe(&s)
	}
	if exited := f.agents[i].Exited(); exited != nil {
		state += "; " + exited.Error()
	}
	return fmt.Errorf("%s: Stack %s/%s not Ready at %s (%s; agent log: %s): %w",
		c.Name, syncNamespace, syncName, revision, state, f.agents[i].LogPath(), err)
}
