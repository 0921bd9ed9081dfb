package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// markerPassword is planted as the Git password; it must appear nowhere.
const markerPassword = "flotilla-marker-pw-9f3c2e"

// bootstrapOptions returns options for a test bootstrap into namespace ns.
func bootstrapOptions(ns, url, path string) *BootstrapOptions {
	b := bootstrap.DefaultOptions()
	b.Install = fixedInstall(ns)
	b.Install.Replicas = 1
	b.Install.ClusterAdmin = true
	b.URL, b.Path, b.Wait = url, path, false
	o := &BootstrapOptions{Bootstrap: b}
	o.Kube.Kubeconfig = env.Kubeconfig
	return o
}

// releaseClusterObjects removes the owner labels a test's root Stack put on
// the cluster-scoped objects every install shares, so the next test's
// bootstrap (in another namespace) may adopt them.
func releaseClusterObjects(t *testing.T, ns string) {
	t.Helper()
	objs, err := install.Objects(fixedInstall(ns))
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:null,%q:null}}}`, apply.OwnerNameLabel, apply.OwnerNamespaceLabel))
	for _, o := range objs {
		if o.GetNamespace() != "" {
			continue
		}
		live := apply.MetadataOf(o).Unstructured()
		if err := env.Client.Patch(context.Background(), live, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
			t.Errorf("releasing %s: %v", apply.MetadataOf(o), err)
		}
	}
}

// runBootstrap runs o and returns its output.
func runBootstrap(t *testing.T, o *BootstrapOptions) string {
	t.Helper()
	var out bytes.Buffer
	if err := o.Run(context.Background(), Streams{Out: &out, ErrOut: &out}); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
	return out.String()
}

// branchFiles returns the files of the branch's head commit of a bare
// repository, and the commit.
func branchFiles(t *testing.T, bare, branch string) (map[string]string, *object.Commit) {
	t.Helper()
	repo, err := gogit.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("branch %s: %v", branch, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	iter, err := commit.Files()
	if err != nil {
		t.Fatal(err)
	}
	_ = iter.ForEach(func(f *object.File) error {
		files[f.Name], _ = f.Contents()
		return nil
	})
	return files, commit
}

// noSecrets fails when any of the texts holds a secret, in clear or base64.
func noSecrets(t *testing.T, texts map[string]string, secrets ...string) {
	t.Helper()
	for name, text := range texts {
		for _, s := range secrets {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
				if strings.Contains(text, form) {
					t.Errorf("%s holds a credential", name)
				}
			}
		}
	}
}

// syncAndInstalled returns the objects a bootstrap of o applies, except the Secret.
func syncAndInstalled(t *testing.T, o *BootstrapOptions) []*unstructured.Unstructured {
	t.Helper()
	objs, err := install.Objects(o.Bootstrap.Install)
	if err != nil {
		t.Fatal(err)
	}
	ns := o.Bootstrap.Install.Namespace
	for _, k := range []struct{ kind, name string }{{v1alpha1.GitRepositoryKind, o.Bootstrap.SourceName}, {v1alpha1.StackKind, o.Bootstrap.StackName}} {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(k.kind))
		u.SetNamespace(ns)
		u.SetName(k.name)
		objs = append(objs, u)
	}
	return objs
}

func TestBootstrapHTTPIntoEmptyRepositoryTwice(t *testing.T) {
	controlplane.Require(t, env)
	ns := "bootstrap-http"
	t.Cleanup(func() { releaseClusterObjects(t, ns) })
	root := gitserver.NewRoot(t)
	bare := root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth("fleet-bot", markerPassword))
	o := bootstrapOptions(ns, srv.RepoURL("fleet"), "clusters/http-cluster")
	o.Bootstrap.Username, o.Bootstrap.Password = "fleet-bot", markerPassword

	first := runBootstrap(t, o)
	if !strings.Contains(first, "committed clusters/http-cluster to main and pushed") {
		t.Errorf("first run did not commit:\n%s", first)
	}
	files, commit := branchFiles(t, bare, "main")
	if commit.Author.Name != "Flotilla" || commit.Author.Email != "flotilla@users.noreply.flotilla.io" {
		t.Errorf("commit author = %s <%s>", commit.Author.Name, commit.Author.Email)
	}
	for _, f := range []string{"kustomization.yaml", "flotilla-components.yaml", "flotilla-sync.yaml"} {
		if _, ok := files["clusters/http-cluster/"+f]; !ok {
			t.Errorf("the commit lacks clusters/http-cluster/%s; it has %v", f, files)
		}
	}
	if strings.Contains(files["clusters/http-cluster/flotilla-sync.yaml"], "kind: Secret") {
		t.Error("the Secret was committed")
	}
	var secret corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "fleet-git"}, &secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["username"]) != "fleet-bot" || string(secret.Data["password"]) != markerPassword {
		t.Errorf("secret keys = %v", secret.Data)
	}
	before := resourceVersions(t, env.Client, syncAndInstalled(t, o))

	second := runBootstrap(t, o)
	if !strings.Contains(second, "already exists on main: no commit") || !strings.Contains(second, " 0 objects changed") {
		t.Errorf("second run changed something:\n%s", second)
	}
	if _, again := branchFiles(t, bare, "main"); again.Hash != commit.Hash {
		t.Errorf("second run made commit %s", again.Hash)
	}
	if diff := cmp.Diff(before, resourceVersions(t, env.Client, syncAndInstalled(t, o))); diff != "" {
		t.Errorf("resourceVersions changed by the second run (-before +after):\n%s", diff)
	}
	texts := map[string]string{"first output": first, "second output": second}
	for name, content := range files {
		texts["committed "+name] = content
	}
	noSecrets(t, texts, markerPassword)
}

func TestBootstrapRefusesWrongPasswordWithoutShowingIt(t *testing.T) {
	controlplane.Require(t, env)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth("fleet-bot", "the-right-one"))
	o := bootstrapOptions("bootstrap-wrong-pw", srv.RepoURL("fleet"), "clusters/x")
	o.Bootstrap.Username, o.Bootstrap.Password = "fleet-bot", markerPassword
	var out bytes.Buffer
	err := o.Run(context.Background(), Streams{Out: &out, ErrOut: &out})
	if err == nil {
		t.Fatal("bootstrap with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "cloning") {
		t.Errorf("error does not say what failed: %v", err)
	}
	noSecrets(t, map[string]string{"error": err.Error(), "output": out.String()}, markerPassword)
}

func TestBootstrapSSHExistingDirectory(t *testing.T) {
	controlplane.Require(t, env)
	ns := "bootstrap-ssh"
	t.Cleanup(func() { releaseClusterObjects(t, ns) })
	root := gitserver.NewRoot(t)
	bare := root.InitBare(t, "fleet")
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, root, pub)
	wd := gitserver.NewWorkdir(t, root.FileURL("fleet"))
	wd.WriteFile(t, "clusters/ssh-cluster/kustomization.yaml", "resources:\n  - settings.yaml\n")
	wd.WriteFile(t, "clusters/ssh-cluster/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: "+ns+"\ndata:\n  a: b\n")
	wd.Commit(t, "the cluster's directory")
	wd.Push(t, "main")
	_, pushed := branchFiles(t, bare, "main")

	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	o := bootstrapOptions(ns, srv.RepoURL("fleet"), "clusters/ssh-cluster")
	o.PrivateKeyFile = keyFile
	first := runBootstrap(t, o)
	if !strings.Contains(first, "ssh host key trusted on first use: SHA256:") || !strings.Contains(first, "no commit") {
		t.Errorf("first run output:\n%s", first)
	}
	var secret corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "fleet-git"}, &secret); err != nil {
		t.Fatal(err)
	}
	if len(secret.Data["identity"]) == 0 || !strings.Contains(string(secret.Data["known_hosts"]), "ssh-") {
		t.Errorf("the Secret lacks identity or known_hosts: keys %v", keysOf(secret.Data))
	}
	before := resourceVersions(t, env.Client, syncAndInstalled(t, o))

	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, secret.Data["known_hosts"], 0o600); err != nil {
		t.Fatal(err)
	}
	o.KnownHostsFile = knownHosts
	second := runBootstrap(t, o)
	if strings.Contains(second, "trusted on first use") || !strings.Contains(second, " 0 objects changed") {
		t.Errorf("second run output:\n%s", second)
	}
	if diff := cmp.Diff(before, resourceVersions(t, env.Client, syncAndInstalled(t, o))); diff != "" {
		t.Errorf("resourceVersions changed by the second run (-before +after):\n%s", diff)
	}
	if _, head := branchFiles(t, bare, "main"); head.Hash != pushed.Hash {
		t.Errorf("bootstrap committed into an existing directory: %s", head.Hash)
	}
	noSecrets(t, map[string]string{"first output": first, "second output": second}, string(key), "PRIVATE KEY")
	// The install objects are not in the directory: they are not the root Stack's.
	var dep unstructured.Unstructured
	dep.SetGroupVersionKind(apply.ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment"}.GroupVersionKind())
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: install.AgentName}, &dep); err != nil {
		t.Fatal(err)
	}
	if owner := dep.GetLabels()[apply.OwnerNameLabel]; owner != "" {
		t.Errorf("the Deployment is labelled as Stack %s's, but the directory does not hold it", owner)
	}
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
