package realnode

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/test/gitserver"
	"github.com/flotilla-io/flotilla/test/node"
)

// clusterPath is the cluster's directory in the fleet repository.
const clusterPath = "clusters/realnode"

// rootStackKey is the Stack bootstrap creates.
var rootStackKey = client.ObjectKey{Namespace: install.DefaultNamespace, Name: "cluster"}

// fleet is the fixture the subtests share: a Git server on the node's
// address that the agent Pod fetches from, and a working copy to push with.
type fleet struct {
	srv            *gitserver.HTTPServer
	work           *gitserver.Workdir
	user, password string
	// head is the last commit pushed.
	head string
}

// repoURL is the repository's URL as the agent Pod reaches it.
func (f *fleet) repoURL() string { return f.srv.RepoURL("fleet") }

// push commits everything in the working copy and pushes it to main.
func (f *fleet) push(t *testing.T, msg string) string {
	t.Helper()
	f.head = f.work.Commit(t, msg)
	f.work.Push(t, "main")
	return f.head
}

// pull makes the working copy the remote's main (after bootstrap pushed).
func (f *fleet) pull(t *testing.T) {
	t.Helper()
	f.work.Git(t, "fetch", "--quiet", "origin", "main")
	f.work.ResetHard(t, "FETCH_HEAD")
	f.head = f.work.Git(t, "rev-parse", "HEAD")
}

// TestAgentOnARealNode bootstraps Flotilla on the real node once and runs
// the scenarios in order: the agent is a singleton in the cluster, and each
// scenario starts from the state the one before left.
func TestAgentOnARealNode(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs the agent on a real node, not with -short")
	}
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	f := &fleet{user: "fleet", password: "realnode-" + randomHex(t)}
	f.srv = gitserver.NewHTTP(t, root, gitserver.WithBasicAuth(f.user, f.password), gitserver.WithHost(node.NodeIP))
	// The working copy pushes to the bare repository's path, so no
	// credential is written into its configuration.
	f.work = gitserver.NewWorkdir(t, root.Path("fleet"))

	steps := []struct {
		name string
		run  func(*testing.T, *fleet)
	}{
		{"bootstrap runs the agent as a Pod from its image and manages itself", testBootstrap},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, f) }) {
			t.Fatalf("%q failed; the scenarios after it build on it", s.name)
		}
	}
}

func testBootstrap(t *testing.T, f *fleet) {
	out, err := runCLI(t, 5*time.Minute, "bootstrap",
		"--kubeconfig", cluster.Kubeconfig,
		"--url", f.repoURL(), "--branch", "main", "--path", clusterPath,
		"--username", f.user, "--password", f.password,
		"--image", agentImage, "--interval", "5s", "--timeout", "3m")
	if err != nil {
		t.Fatalf("flotilla bootstrap: %v\n%s\n%s", err, out, diagnostics(t))
	}
	if strings.Contains(out, f.password) {
		t.Errorf("bootstrap's output holds the password:\n%s", out)
	}
	f.pull(t)

	dep := waitAvailable(t, agentKey, 2*time.Minute)
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != agentImage {
		t.Errorf("the agent's Deployment runs image %s, want %s", got, agentImage)
	}
	pods := agentPods(t)
	if len(pods) != 1 {
		t.Fatalf("want 1 agent Pod, got %d\n%s", len(pods), diagnostics(t))
	}
	p := &pods[0]
	if !podReady(p) || len(p.Status.ContainerStatuses) != 1 {
		t.Fatalf("the agent Pod is not Running and Ready: %s", podReport(p))
	}
	if cs := p.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.Image != agentImage {
		t.Errorf("want the agent's container from %s with no restart: %s\n%s", agentImage, podReport(p), diagnostics(t))
	}

	st := waitStack(t, rootStackKey, gitRevision(f.head), 2*time.Minute)
	if !inInventory(st, "apps", "Deployment", agentKey.Namespace, agentKey.Name) {
		t.Errorf("the root Stack's inventory lacks the agent's own Deployment: %+v", st.Status.Inventory)
	}

	// A commit to the cluster's directory reaches the cluster: the Pod
	// fetched it over the pod network, with the credentials in the Secret.
	f.work.WriteFile(t, clusterPath+"/hello.yaml", configMapYAML("hello", install.DefaultNamespace, "greeting", "hello from git"))
	f.work.WriteFile(t, clusterPath+"/"+bootstrap.KustomizationFile, kustomization(bootstrap.ComponentsFile, bootstrap.SyncFile, "hello.yaml"))
	rev := gitRevision(f.push(t, "add a ConfigMap"))
	var cm corev1.ConfigMap
	eventually(t, 90*time.Second, "the ConfigMap committed to Git in the cluster", func() (bool, string) {
		err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: install.DefaultNamespace, Name: "hello"}, &cm)
		if err != nil {
			return false, err.Error()
		}
		return cm.Data["greeting"] == "hello from git", fmt.Sprintf("data %v", cm.Data)
	})
	waitStack(t, rootStackKey, rev, time.Minute)
}

// inInventory reports whether the Stack's inventory lists the object.
func inInventory(st *v1alpha1.Stack, group, kind, namespace, name string) bool {
	for _, e := range st.Status.Inventory {
		if e.Group == group && e.Kind == kind && e.Namespace == namespace && e.Name == name {
			return true
		}
	}
	return false
}

// configMapYAML is a ConfigMap with one key.
func configMapYAML(name, namespace, key, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  %s: %q\n", name, namespace, key, value)
}

// kustomization lists resources.
func kustomization(resources ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	return b.String()
}

var _ = appsv1.Deployment{}
