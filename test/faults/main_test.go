// Package faults runs Flotilla's controllers against a real kube-apiserver
// through a fault proxy (test/faultproxy) and checks what a Stack does when
// the API server answers 503, stalls or resets connections between the
// stages of an apply and in the middle of one.
package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/stackspec"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/faultproxy"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

var (
	env   *controlplane.Env
	proxy *faultproxy.Proxy
	nsSeq atomic.Int32
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(controlplane.RunTests(m, &env, startBehindProxy))
}

// startBehindProxy runs the controllers in-process, every request of theirs
// (watches, reads, dry-runs, applies, status patches) through the proxy.
func startBehindProxy(e *controlplane.Env) (func(), error) {
	p, err := faultproxy.New(e.Config)
	if err != nil {
		return nil, err
	}
	proxy = p
	dir, err := os.MkdirTemp("", "flotilla-faults-")
	if err != nil {
		return nil, err
	}
	opts := agent.DefaultOptions()
	opts.DataDir = dir
	opts.AllowFileURLs = true // the repositories are served from file:// URLs
	opts.Apply.Poll = 200 * time.Millisecond
	_, stop, err := controlplane.RunControllers(p.Config(), opts, prometheus.NewRegistry())
	if err != nil {
		p.Close()
		return nil, err
	}
	return func() { p.Close(); stop(); os.RemoveAll(dir) }, nil
}

// fleet is a namespace with a GitRepository "fleet" served from file://.
type fleet struct {
	ns  string
	wd  *gitserver.Workdir
	key client.ObjectKey
}

func newFleet(t *testing.T, files map[string]string) (*fleet, string) {
	t.Helper()
	controlplane.Require(t, env)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("faults-%d-%d", os.Getpid()%1000, nsSeq.Add(1))}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	f := &fleet{ns: ns.Name, wd: gitserver.NewWorkdir(t, root.Path("fleet")), key: client.ObjectKey{Namespace: ns.Name, Name: "fleet"}}
	rev := f.push(t, files)
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: root.FileURL("fleet"), Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := env.Client.Create(ctx, repo); err != nil {
		t.Fatalf("creating GitRepository: %v", err)
	}
	f.waitRevision(t, rev)
	return f, rev
}

// push writes files (an empty content removes the file), commits and
// pushes; it returns the revision.
func (f *fleet) push(t *testing.T, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		if c == "" {
			f.wd.Remove(t, p)
			continue
		}
		f.wd.WriteFile(t, p, c)
	}
	sha := f.wd.Commit(t, "update")
	f.wd.Push(t, "main")
	return "main@sha1:" + sha
}

// update pushes files and waits for the GitRepository to store them.
func (f *fleet) update(t *testing.T, files map[string]string) string {
	t.Helper()
	rev := f.push(t, files)
	var repo v1alpha1.GitRepository
	if err := env.Client.Get(context.Background(), f.key, &repo); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(repo.DeepCopy())
	metav1.SetMetaDataAnnotation(&repo.ObjectMeta, v1alpha1.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano))
	if err := env.Client.Patch(context.Background(), &repo, patch); err != nil {
		t.Fatal(err)
	}
	f.waitRevision(t, rev)
	return rev
}

func (f *fleet) waitRevision(t *testing.T, rev string) {
	t.Helper()
	eventually(t, "GitRepository at "+rev, func() error {
		var repo v1alpha1.GitRepository
		if err := env.Client.Get(context.Background(), f.key, &repo); err != nil {
			return err
		}
		if repo.Status.Artifact == nil || repo.Status.Artifact.Revision != rev {
			return fmt.Errorf("artifact %+v", repo.Status.Artifact)
		}
		return nil
	})
}

// createStack creates Stack "app" of path "app" in the fleet's namespace,
// pruning, retrying every second.
func (f *fleet) createStack(t *testing.T, timeout time.Duration) client.ObjectKey {
	t.Helper()
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "app"},
		Spec: v1alpha1.StackSpec{
			SourceRef:       v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:            "app",
			TargetNamespace: f.ns,
			Interval:        metav1.Duration{Duration: time.Hour},
			RetryInterval:   &metav1.Duration{Duration: time.Second},
			Timeout:         &metav1.Duration{Duration: timeout},
			Prune:           true,
		},
	}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatalf("creating Stack: %v", err)
	}
	return client.ObjectKeyFromObject(s)
}

// waitStack waits until cond holds for the Stack and returns it.
func waitStack(t *testing.T, key client.ObjectKey, what string, cond func(*v1alpha1.Stack, *metav1.Condition) error) *v1alpha1.Stack {
	t.Helper()
	s := &v1alpha1.Stack{}
	eventually(t, fmt.Sprintf("Stack %s %s", key, what), func() error {
		if err := env.Client.Get(context.Background(), key, s); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ReadyCondition)
		if ready == nil {
			return fmt.Errorf("no Ready condition")
		}
		return cond(s, ready)
	})
	return s
}

// readyAt waits for Ready=True with revision applied.
func readyAt(t *testing.T, key client.ObjectKey, rev string) *v1alpha1.Stack {
	t.Helper()
	return waitStack(t, key, "Ready at "+rev, func(s *v1alpha1.Stack, c *metav1.Condition) error {
		if !stackspec.ReadyAt(s, rev) {
			return errors.New(stackspec.Describe(s))
		}
		return nil
	})
}

// eventually polls cond until it returns nil, for up to a minute.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		if last = cond(); last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, last)
}
