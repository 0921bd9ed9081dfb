package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestAgentRefusesAFetchOverItsSizeCap runs the agent with
// --max-fetch-size 200000 against a repository on the HTTP Git server. A
// commit that adds 300 kB of incompressible data makes the fetch fail:
// Ready says which GitRepository, the cap and the flag, and the last good
// artifact stays in status and on disk.
func TestAgentRefusesAFetchOverItsSizeCap(t *testing.T) {
	controlplane.Require(t, env)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root)
	work := gitserver.NewWorkdir(t, root.Path("fleet"))
	const file, content = "app.yaml", "v: 1\n"
	work.WriteFile(t, file, content)
	first := work.Commit(t, "first")
	work.Push(t, "main")

	agent := startAgent(t, "--max-fetch-size", "200000")
	ns := newNamespace(t)
	mustCreate(t, &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: srv.RepoURL("fleet"), Interval: metav1.Duration{Duration: 2 * time.Second}},
	})
	key := client.ObjectKey{Namespace: ns, Name: "fleet"}
	lastGood := waitForArtifact(t, key, "main@sha1:"+first).Status.Artifact

	random := make([]byte, 225_000) // 300 kB in base64, and git cannot compress it
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	work.WriteFile(t, "blob.txt", base64.StdEncoding.EncodeToString(random))
	work.Commit(t, "a large file")
	work.Push(t, "main")

	obj, ready := waitForReady(t, key, metav1.ConditionFalse, v1alpha1.ReasonGitOperationFailed)
	for _, want := range []string{"GitRepository " + ns + "/fleet", "more than 200000 bytes", "--max-fetch-size", "still serving revision main@sha1:" + first} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready message %q should say %q", ready.Message, want)
		}
	}
	if a := obj.Status.Artifact; a == nil || a.Revision != lastGood.Revision || a.Path != lastGood.Path {
		t.Errorf("status.artifact = %+v, want the last good one %+v", a, lastGood)
	}
	assertArtifactFile(t, agent.dataDir, lastGood, file, content)
}
