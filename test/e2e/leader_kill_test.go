package e2e

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/faultproxy"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestLeaderKilledMidApply runs two agents with --leader-elect, each behind
// its own fault proxy (which records its requests). The leader applies a
// Stack of 80 ConfigMaps; its proxy stalls the applies after the 20th, and
// the leader is killed with SIGKILL there, mid-apply. The other agent takes
// the Lease and converges: the inventory is exactly what Git holds, every
// owned object is in it, the objects the dead leader created keep their
// UID (nothing created twice), and there was one writer at a time: the
// follower wrote nothing before the kill, the dead leader nothing after.
func TestLeaderKilledMidApply(t *testing.T) {
	controlplane.Require(t, env)
	const objects, written = 80, 20
	ns := newNamespace(t)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	var want []string
	for i := range objects {
		name := fmt.Sprintf("cm-%02d", i)
		want = append(want, name)
		wd.WriteFile(t, "app/"+name+".yaml", fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, name))
	}
	rev := "main@sha1:" + wd.Commit(t, "80 objects")
	wd.Push(t, "main")

	proxyA, kubeconfigA := startProxy(t)
	proxyB, kubeconfigB := startProxy(t)
	proxyA.Set(faultproxy.Rule{Name: "stall", Fault: faultproxy.Stall, Skip: written,
		Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.ServerSideApply)})
	args := []string{"--leader-elect", "--leader-election-namespace", ns}
	a := startAgent(t, append(args, "--kubeconfig", kubeconfigA)...)
	holderA := waitForLeaseHolder(t, ns, "")
	startAgent(t, append(args, "--kubeconfig", kubeconfigB)...)

	mustCreate(t, &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: root.FileURL("fleet"), Interval: metav1.Duration{Duration: time.Hour}},
	})
	mustCreate(t, &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:      "app", TargetNamespace: ns, Prune: true,
			Interval:      metav1.Duration{Duration: time.Hour},
			RetryInterval: &metav1.Duration{Duration: time.Second},
			Timeout:       &metav1.Duration{Duration: 5 * time.Minute},
		},
	})
	eventually(t, "the leader to stall mid-apply", func() (bool, string) {
		return proxyA.Faulted("stall") > 0, fmt.Sprintf("%d requests", len(proxyA.Records()))
	})
	if err := a.cmd.Process.Kill(); err != nil { // SIGKILL: no Lease handed over, no status written
		t.Fatalf("killing the leader: %v", err)
	}
	_ = a.cmd.Wait()
	killedAt := len(proxyA.Records())
	beforeKill := ownedUIDs(t, ns)
	if len(beforeKill) < written || len(beforeKill) >= objects {
		t.Fatalf("%d ConfigMaps existed when the leader was killed, want a partial apply (at least %d of %d)", len(beforeKill), written, objects)
	}
	if w := writesTo(proxyB.Records(), ns); len(w) > 0 {
		t.Errorf("the follower wrote while the other agent led: %v", w)
	}
	followerWrote := len(proxyB.Records())

	holderB := waitForLeaseHolder(t, ns, holderA)
	s := waitStackReady(t, client.ObjectKey{Namespace: ns, Name: "app"}, rev)

	if got := controlplane.InventoryNames(s, "ConfigMap"); !slices.Equal(got, want) {
		t.Errorf("inventory = %v, want the %d ConfigMaps of Git", got, objects)
	}
	after := ownedUIDs(t, ns)
	if got := slices.Sorted(maps.Keys(after)); !slices.Equal(got, want) {
		t.Errorf("owned ConfigMaps = %v, want the %d of Git: nothing orphaned, nothing missing", got, objects)
	}
	for name, uid := range beforeKill {
		if after[name] != uid {
			t.Errorf("ConfigMap %s was created again by the new leader (uid %s, was %s)", name, after[name], uid)
		}
	}
	if w := writesTo(proxyA.Records()[killedAt:], ns); len(w) > 0 {
		t.Errorf("the killed leader still wrote: %v", w)
	}
	if w := writesTo(proxyB.Records()[followerWrote:], ns); len(w) == 0 {
		t.Errorf("the new leader %s wrote nothing", holderB)
	}
	created := map[string]int{}
	for _, rec := range append(proxyA.Records(), proxyB.Records()...) {
		if faultproxy.Created(rec) && !strings.Contains(rec.Query, "dryRun") && strings.Contains(rec.Path, "/configmaps/") {
			created[rec.Path]++
		}
	}
	for p, n := range created {
		if n > 1 {
			t.Errorf("%s was created %d times", p, n)
		}
	}
}

// startProxy starts a fault proxy in front of the control plane and writes
// a kubeconfig for it.
func startProxy(t *testing.T) (*faultproxy.Proxy, string) {
	t.Helper()
	p, err := faultproxy.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := p.WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	return p, path
}

// writesTo lists the writes (not dry-runs) to ConfigMaps and Stacks in ns
// that reached the API server, as "METHOD path".
func writesTo(recs []faultproxy.Record, ns string) []string {
	var out []string
	for _, r := range recs {
		if r.Status == 0 || r.Method == "GET" || strings.Contains(r.Query, "dryRun") || !strings.Contains(r.Path, "/namespaces/"+ns+"/") {
			continue
		}
		if strings.Contains(r.Path, "/configmaps") || strings.Contains(r.Path, "/stacks") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// ownedUIDs returns the UID of each ConfigMap Stack "app" owns in ns.
func ownedUIDs(t *testing.T, ns string) map[string]types.UID {
	t.Helper()
	uids, err := controlplane.OwnedConfigMaps(context.Background(), env.Client, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	return uids
}

// waitStackReady waits for the Stack to be Ready with rev applied.
func waitStackReady(t *testing.T, key client.ObjectKey, rev string) *v1alpha1.Stack {
	t.Helper()
	var s v1alpha1.Stack
	eventually(t, fmt.Sprintf("Stack %s Ready at %s", key, rev), func() (bool, string) {
		if err := env.Client.Get(context.Background(), key, &s); err != nil {
			return false, err.Error()
		}
		return stackspec.ReadyAt(&s, rev), stackspec.Describe(&s)
	})
	return &s
}
