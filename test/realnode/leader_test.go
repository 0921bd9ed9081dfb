package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// testLeaderFailover scales the agent to two replicas through Git (its
// Deployment is in the root Stack's inventory: a change made any other way
// would be reverted), then pushes a change to the app's Stack and deletes
// the leader while that Stack waits for the new Pods. The other replica
// takes the Lease and finishes the revision.
func testLeaderFailover(t *testing.T, f *fleet) {
	ctx := context.Background()
	scaleAgentThroughGit(t, f, 2)
	holder := leaseHolder(t)
	leader, _, _ := strings.Cut(holder, "_")
	t.Logf("the Lease holder is %s", holder)

	ns := f.app.Namespace
	w := watchWrites(t, ns)
	var dep appsv1.Deployment
	mustGet(t, client.ObjectKey{Namespace: ns, Name: "app"}, &dep)
	generation := dep.Generation

	// The new revision changes the Deployment (a rollout whose Pod is ready
	// only appReadyAfter after its start), changes ConfigMap settings,
	// removes old and adds new.
	writeApp(t, f, "second", map[string]string{"settings": "2", "new": "1"})
	rev := gitRevision(f.push(t, "change the app, its settings, replace a ConfigMap"))

	// Once the Deployment has the new template the leader is in the
	// Stack's health wait: delete it there.
	eventually(t, time.Minute, "the leader to apply the new Deployment", func() (bool, string) {
		if err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(&dep), &dep); err != nil {
			return false, err.Error()
		}
		return dep.Generation > generation, fmt.Sprintf("generation %d", dep.Generation)
	})
	var st v1alpha1.Stack
	mustGet(t, f.app, &st)
	if stackspec.ReadyAt(&st, rev) {
		t.Logf("the Stack was already Ready at %s when the leader was deleted: the failover did not interrupt it", rev)
	}
	if err := cluster.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: agentKey.Namespace, Name: leader}}); err != nil {
		t.Fatalf("deleting the leader %s: %v", leader, err)
	}
	next := waitLeaseHolderOtherThan(t, leader)
	t.Logf("the Lease holder after the failover is %s", next)

	waitStack(t, f.app, rev, 2*time.Minute)
	waitAvailable(t, client.ObjectKeyFromObject(&dep), time.Minute)
	mustGet(t, f.app, &st)

	// Nothing orphaned: the inventory is exactly the objects in Git, each
	// exists, and the ConfigMap removed from Git is gone.
	want := []string{"/ConfigMap " + ns + "/new", "/ConfigMap " + ns + "/settings", "/Service " + ns + "/app", "apps/Deployment " + ns + "/app"}
	var got []string
	for _, e := range st.Status.Inventory {
		got = append(got, fmt.Sprintf("%s/%s %s/%s", e.Group, e.Kind, e.Namespace, e.Name))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("inventory after the failover = %v, want %v", got, want)
	}
	for _, name := range []string{"settings", "new"} {
		var cm corev1.ConfigMap
		mustGet(t, client.ObjectKey{Namespace: ns, Name: name}, &cm)
	}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "old"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap old, removed from Git, was not pruned: %v", err)
	}

	// Nothing applied twice. Both leaders apply the revision, but the
	// second apply finds every object as Git says and server-side apply
	// does not persist a no-op: the objects the revision changes are each
	// written once, and the others not at all. The watch, started before
	// the push, sees every write: one event per ConfigMap change, and one
	// new Deployment generation (status updates by the controllers do not
	// change it).
	time.Sleep(2 * time.Second) // let the watch deliver the last events
	writes := w.stop()
	wantWrites := map[string]string{
		"ConfigMap/settings": "MODIFIED",
		"ConfigMap/new":      "ADDED",
		"ConfigMap/old":      "DELETED",
		"Deployment/app":     fmt.Sprintf("generation %d", generation+1),
	}
	for obj, events := range writes {
		if want, ok := wantWrites[obj]; !ok || len(events) != 1 || events[0] != want {
			t.Errorf("%s was written %v, want %q once", obj, events, want)
		}
	}
	for obj, want := range wantWrites {
		if _, ok := writes[obj]; !ok {
			t.Errorf("%s was never written, want %q", obj, want)
		}
	}
}

// scaleAgentThroughGit sets the agent's replicas in the cluster's
// directory and waits until that many Pods are Ready.
func scaleAgentThroughGit(t *testing.T, f *fleet, replicas int) {
	t.Helper()
	file := filepath.Join(f.work.Dir(), clusterPath, bootstrap.ComponentsFile)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const one = "\n  replicas: 1\n"
	if n := strings.Count(string(data), one); n != 1 {
		t.Fatalf("%s holds %q %d times, want once (the agent's Deployment)", bootstrap.ComponentsFile, one, n)
	}
	f.work.WriteFile(t, clusterPath+"/"+bootstrap.ComponentsFile, strings.Replace(string(data), one, fmt.Sprintf("\n  replicas: %d\n", replicas), 1))
	rev := gitRevision(f.push(t, fmt.Sprintf("run %d replicas of the agent", replicas)))
	waitStack(t, rootStackKey, rev, 2*time.Minute)
	waitAvailable(t, agentKey, 2*time.Minute)
	eventually(t, time.Minute, fmt.Sprintf("%d agent Pods Ready", replicas), func() (bool, string) {
		var ready int
		var states []string
		for _, p := range agentPods(t) {
			if podReady(&p) {
				ready++
			}
			states = append(states, podReport(&p))
		}
		return ready == replicas, strings.Join(states, "\n")
	})
}

// leaseHolder returns the holder of the agent's Lease.
func leaseHolder(t *testing.T) string {
	t.Helper()
	return waitLeaseHolderOtherThan(t, "")
}

// waitLeaseHolderOtherThan waits until a Pod other than pod (any when
// empty) holds the agent's Lease, and returns the holder's identity
// (the Pod's name, "_", a unique suffix).
func waitLeaseHolderOtherThan(t *testing.T, pod string) string {
	t.Helper()
	var holder string
	eventually(t, time.Minute, fmt.Sprintf("a Lease holder other than %q", pod), func() (bool, string) {
		var lease coordinationv1.Lease
		key := client.ObjectKey{Namespace: agentKey.Namespace, Name: agent.LeaderElectionID}
		if err := cluster.Client.Get(context.Background(), key, &lease); err != nil {
			return false, err.Error()
		}
		holder = ""
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		name, _, _ := strings.Cut(holder, "_")
		return name != "" && name != pod, "holder " + holder
	})
	return holder
}

// writeWatch records the writes to the ConfigMaps and Deployments of a
// namespace: a ConfigMap's event types, a Deployment's new generations.
type writeWatch struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	writes map[string][]string
}

// watchWrites starts watching ns from now.
func watchWrites(t *testing.T, ns string) *writeWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cs := clientset(t)
	w := &writeWatch{ctx: ctx, cancel: cancel, writes: map[string][]string{}}
	t.Cleanup(cancel)
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	generations := map[string]int64{}
	for _, d := range deps.Items {
		generations[d.Name] = d.Generation
	}
	timeout := int64(600)
	cmWatch, err := cs.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: cms.ResourceVersion, TimeoutSeconds: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	depWatch, err := cs.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: deps.ResourceVersion, TimeoutSeconds: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	w.wg.Add(2)
	go w.consume(cmWatch, func(e watch.Event) (string, string, bool) {
		cm, ok := e.Object.(*corev1.ConfigMap)
		if !ok || cm.Name == "kube-root-ca.crt" {
			return "", "", false
		}
		return "ConfigMap/" + cm.Name, string(e.Type), true
	})
	go w.consume(depWatch, func(e watch.Event) (string, string, bool) {
		d, ok := e.Object.(*appsv1.Deployment)
		if !ok || d.Generation == generations[d.Name] {
			return "", "", false
		}
		generations[d.Name] = d.Generation
		return "Deployment/" + d.Name, fmt.Sprintf("generation %d", d.Generation), true
	})
	return w
}

func (w *writeWatch) consume(wi watch.Interface, record func(watch.Event) (string, string, bool)) {
	defer w.wg.Done()
	defer wi.Stop()
	for e := range wi.ResultChan() {
		if w.ctx.Err() != nil {
			return // stopped: what follows is the watch ending
		}
		if e.Type == watch.Error {
			w.add("watch", fmt.Sprintf("error %v", e.Object))
			continue
		}
		if obj, what, ok := record(e); ok {
			w.add(obj, what)
		}
	}
	if w.ctx.Err() == nil {
		w.add("watch", "ended before it was stopped: writes may be missing")
	}
}

func (w *writeWatch) add(obj, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes[obj] = append(w.writes[obj], what)
}

// stop ends the watch and returns what it saw.
func (w *writeWatch) stop() map[string][]string {
	w.cancel()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}
