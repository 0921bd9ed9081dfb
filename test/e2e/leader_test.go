package e2e

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestLeaderElectionFailsOver runs two agents with --leader-elect: one holds
// the Lease and reconciles; when it is stopped the other takes over and
// follows the next push.
func TestLeaderElectionFailsOver(t *testing.T) {
	controlplane.Require(t, env)
	ns := newNamespace(t)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	wd.WriteFile(t, "a.yaml", "a: 1\n")
	first := wd.Commit(t, "first")
	wd.Push(t, "main")

	args := []string{"--leader-elect", "--leader-election-namespace", ns}
	a := startAgent(t, args...)
	holderA := waitForLeaseHolder(t, ns, "")
	b := startAgent(t, args...)

	mustCreate(t, &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: root.FileURL("fleet"), Interval: metav1.Duration{Duration: 2 * time.Second}},
	})
	key := client.ObjectKey{Namespace: ns, Name: "fleet"}
	waitForArtifact(t, key, "main@sha1:"+first)

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the leader: %v", err)
	}
	waitForLeaseHolder(t, ns, holderA)
	wd.WriteFile(t, "a.yaml", "a: 2\n")
	second := wd.Commit(t, "second")
	wd.Push(t, "main")
	obj := waitForArtifact(t, key, "main@sha1:"+second)
	assertArtifactFile(t, b.dataDir, obj.Status.Artifact, "a.yaml", "a: 2\n")
}

// waitForLeaseHolder waits for the agent's Lease to have a holder other
// than previous (any holder when previous is empty) and returns it.
func waitForLeaseHolder(t *testing.T, ns, previous string) string {
	t.Helper()
	var holder string
	eventually(t, fmt.Sprintf("a Lease holder other than %q", previous), func() (bool, string) {
		var lease coordinationv1.Lease
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: agent.LeaderElectionID}, &lease)
		if err != nil {
			return false, err.Error()
		}
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		return holder != "" && holder != previous, "holder " + holder
	})
	return holder
}
