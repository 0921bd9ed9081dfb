package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestBootstrapFullLoop bootstraps into an empty repository with the
// controllers running: the commit is pushed, and the root Stack becomes
// Ready at that commit by applying the committed directory, which changes
// nothing of what bootstrap applied (same field manager, same owner).
func TestBootstrapFullLoop(t *testing.T) {
	controlplane.Require(t, env)
	ns := "bootstrap-loop"
	t.Cleanup(func() { releaseClusterObjects(t, ns) }) // runs after the agent stops
	startAgent(t, ns)
	root := gitserver.NewRoot(t)
	bare := root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth("fleet-bot", markerPassword))
	b := bootstrapOptions(ns, srv.RepoURL("fleet"), "clusters/loop").Bootstrap
	b.Username, b.Password = "fleet-bot", markerPassword
	b.Wait, b.Timeout = true, 2*time.Minute
	var lines []string
	res, err := bootstrap.Run(context.Background(), env.Config, b, func(s string) { lines = append(lines, s) })
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, strings.Join(lines, "\n"))
	}
	_, commit := branchFiles(t, bare, "main")
	if !res.Committed || res.Commit != commit.Hash.String() {
		t.Fatalf("result %+v, branch head %s", res, commit.Hash)
	}
	if want := "main@sha1:" + commit.Hash.String(); res.Revision != want {
		t.Errorf("root Stack Ready at %q, want %q", res.Revision, want)
	}
	var st v1alpha1.Stack
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cluster"}, &st); err != nil {
		t.Fatal(err)
	}
	if lc := st.Status.LastChange; lc == nil || lc.Created != 0 || lc.Configured != 0 {
		t.Errorf("the root Stack's apply changed what bootstrap applied: %+v", lc)
	}
	installed, err := install.Objects(b.Install)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(st.Status.Inventory), len(installed)+2; got != want {
		t.Errorf("the root Stack's inventory holds %d objects, want the %d install objects, the GitRepository and itself", got, len(installed))
	}
	o := &BootstrapOptions{Bootstrap: b}
	before := resourceVersions(t, env.Client, syncAndInstalled(t, o))
	res2, err := bootstrap.Run(context.Background(), env.Config, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Committed || res2.Commit != res.Commit {
		t.Errorf("the second run committed: %+v", res2)
	}
	after := resourceVersions(t, env.Client, syncAndInstalled(t, o))
	delete(before, "Stack/"+ns+"/cluster") // its status moves with every reconcile
	delete(after, "Stack/"+ns+"/cluster")
	delete(before, "GitRepository/"+ns+"/fleet")
	delete(after, "GitRepository/"+ns+"/fleet")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("resourceVersions changed by the second run (-before +after):\n%s", diff)
	}
	noSecrets(t, map[string]string{"progress": strings.Join(lines, "\n"), "stack status": fmt.Sprintf("%+v", st.Status)}, markerPassword)
}
