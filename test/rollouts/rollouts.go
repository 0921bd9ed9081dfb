// Package rollouts stands in, in envtest, for the Deployment controller and
// the kubelet, which envtest does not run: it writes the status of every
// Deployment of a namespace as if all replicas of its current generation
// were available, except for Deployments marked broken (none available).
// Tests of the Canary controller use it to make Deployments ready.
//
// It is not for real nodes, where the real controllers write that status.
package rollouts

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// tick is how often the Deployments' status is written.
const tick = 100 * time.Millisecond

// Rollouts marks the Deployments of one namespace ready.
type Rollouts struct {
	c      client.Client
	ns     string
	mu     sync.Mutex
	broken map[string]bool
}

// Start runs the stand-in for namespace ns until the test ends.
func Start(t testing.TB, c client.Client, ns string) *Rollouts {
	t.Helper()
	r := &Rollouts{c: c, ns: ns, broken: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			r.sync(ctx)
			time.Sleep(tick)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// SetBroken makes the named Deployment never (or again) available.
func (r *Rollouts) SetBroken(name string, broken bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broken[name] = broken
}

// sync writes the status of every Deployment whose status is behind.
func (r *Rollouts) sync(ctx context.Context) {
	var list appsv1.DeploymentList
	if r.c.List(ctx, &list, client.InNamespace(r.ns)) != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range list.Items {
		d := &list.Items[i]
		n := ptr.Deref(d.Spec.Replicas, 1)
		available := n
		if r.broken[d.Name] {
			available = 0
		}
		want := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: available, AvailableReplicas: available}
		st := d.Status
		if st.ObservedGeneration == want.ObservedGeneration && st.Replicas == n && st.UpdatedReplicas == n && st.AvailableReplicas == available {
			continue
		}
		d.Status = want
		_ = r.c.Status().Update(ctx, d) // a conflict is retried at the next tick
	}
}
