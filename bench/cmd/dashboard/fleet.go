package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// Where the fleet's objects live, as `flotilla bootstrap` puts them.
const (
	namespace  = "flotilla-system"
	sourceName = "fleet"
)

// fleet is the running clusters and the Stacks written in each, kept in
// memory so a change patches the status from what was written last.
type fleet struct {
	shared *controlplane.Shared
	// stacks[i] are the Stacks of cluster i, as last written.
	stacks [][]*v1alpha1.Stack
	// kubeconfig has a context per cluster, named after it.
	kubeconfig string
	dir        string
	// started is how long etcd, the kube-apiservers and the CRDs took;
	// populated how long the objects and their statuses took.
	started, populated time.Duration
}

// startFleet starts o.clusters kube-apiservers on one etcd, writes the
// kubeconfig and creates every cluster's objects.
func startFleet(ctx context.Context, o options, log *harness.Progress) (f *fleet, err error) {
	f = &fleet{}
	if f.dir, err = os.MkdirTemp("", "flotilla-bench-dashboard-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.stop())
		}
	}()
	log.Printf("starting etcd and %d kube-apiservers (%d at a time)", o.clusters, o.parallel)
	t0 := time.Now()
	f.shared, err = controlplane.StartShared(ctx, controlplane.SharedOptions{
		Clusters: o.clusters, Parallel: o.parallel,
		BeforeStart: harness.MemoryGuard(uint64(o.minAvailable)<<20, o.clusters, "kube-apiserver", controlplane.ClusterName),
	})
	if err != nil {
		return f, err
	}
	f.started = time.Since(t0)
	log.Printf("%d clusters up in %s; creating %d Stacks in each, statuses written", o.clusters, f.started.Round(100*time.Millisecond), o.stacks)
	f.kubeconfig = filepath.Join(f.dir, "kubeconfig")
	if err := writeKubeconfig(f.kubeconfig, f.shared.Clusters); err != nil {
		return f, err
	}
	t0 = time.Now()
	if err := f.populate(ctx, o.stacks); err != nil {
		return f, err
	}
	f.populated = time.Since(t0)
	return f, nil
}

// stop stops the clusters and removes the files.
func (f *fleet) stop() error {
	err := f.shared.Stop()
	return errors.Join(err, os.RemoveAll(f.dir))
}

// writeKubeconfig merges the clusters' own kubeconfigs into one file with
// a context per cluster, named after it, the first one current: the
// kubeconfig of a user with a fleet.
func writeKubeconfig(path string, clusters []*controlplane.Cluster) error {
	merged := clientcmdapi.NewConfig()
	for i, c := range clusters {
		one, err := clientcmd.LoadFromFile(c.Kubeconfig)
		if err != nil {
			return fmt.Errorf("reading the kubeconfig of %s: %w", c.Name, err)
		}
		ctx, ok := one.Contexts[one.CurrentContext]
		if !ok {
			return fmt.Errorf("the kubeconfig of %s has no current context", c.Name)
		}
		merged.Clusters[c.Name] = one.Clusters[ctx.Cluster]
		merged.AuthInfos[c.Name] = one.AuthInfos[ctx.AuthInfo]
		merged.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: c.Name, Namespace: namespace}
		if i == 0 {
			merged.CurrentContext = c.Name
		}
	}
	return clientcmd.WriteToFile(*merged, path)
}

// populate creates the objects of every cluster, the clusters at once.
func (f *fleet) populate(ctx context.Context, stacks int) error {
	f.stacks = make([][]*v1alpha1.Stack, len(f.shared.Clusters))
	errs := make([]error, len(f.shared.Clusters))
	var wg sync.WaitGroup
	for i, c := range f.shared.Clusters {
		wg.Go(func() {
			f.stacks[i], errs[i] = populateCluster(ctx, c.Client, i, stacks)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", c.Name, errs[i])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// populateCluster creates the namespace, the GitRepository and the
// Stacks of cluster i, each with its status.
func populateCluster(ctx context.Context, c client.Client, i, stacks int) ([]*v1alpha1.Stack, error) {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", namespace, err)
	}
	now := time.Now()
	repo := gitRepository(now)
	status := repo.Status
	if err := createWithStatus(ctx, c, repo, func() { repo.Status = status }); err != nil {
		return nil, err
	}
	out := make([]*v1alpha1.Stack, stacks)
	for j := range stacks {
		s := stack(i, j, now)
		status := s.Status
		if err := createWithStatus(ctx, c, s, func() { s.Status = status }); err != nil {
			return nil, err
		}
		out[j] = s
	}
	return out, nil
}

// createWithStatus creates obj, then writes its status through the status
// subresource, as the agent does (a create drops the status); setStatus
// puts the wanted status back on obj after the create.
func createWithStatus(ctx context.Context, c client.Client, obj client.Object, setStatus func()) error {
	kind := fmt.Sprintf("%T %s", obj, obj.GetName())
	if err := c.Create(ctx, obj); err != nil {
		return fmt.Errorf("creating %s: %w", kind, err)
	}
	setStatus()
	if err := c.Status().Update(ctx, obj); err != nil {
		return fmt.Errorf("writing the status of %s: %w", kind, err)
	}
	return nil
}

// head is the revision the fleet's branch is at; behind the one before.
var (
	head   = "main@sha1:" + fakeSHA("head")
	behind = "main@sha1:" + fakeSHA("behind")
)

// fakeSHA is a commit hash made of seed, as Git prints one.
func fakeSHA(seed string) string {
	sum := sha1.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// gitRepository is the fleet repository's source, fetched at head.
func gitRepository(now time.Time) *v1alpha1.GitRepository {
	return &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: sourceName},
		Spec: v1alpha1.GitRepositorySpec{
			URL:      "https://git.example.com/platform/fleet.git",
			Interval: metav1.Duration{Duration: time.Minute},
		},
		Status: v1alpha1.GitRepositoryStatus{
			ObservedGeneration: 1,
			Conditions: []metav1.Condition{readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded,
				"stored artifact for revision "+head, now.Add(-10*time.Minute))},
			Artifact: &v1alpha1.Artifact{Revision: head, Digest: "sha256:" + fakeSHA("digest") + fakeSHA("tree")[:24],
				Path: "gitrepository/" + namespace + "/" + sourceName + "/artifact", Size: 182_000, LastUpdateTime: metav1.NewTime(now.Add(-10 * time.Minute))},
			URL: "https://git.example.com/platform/fleet.git",
		},
	}
}

// readyCondition is a Ready condition as the agent writes it.
func readyCondition(status metav1.ConditionStatus, reason, message string, at time.Time) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ReadyCondition, Status: status, Reason: reason, Message: message,
		ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(at.Truncate(time.Second))}
}
