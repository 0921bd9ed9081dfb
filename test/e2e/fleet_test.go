package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// fleetCluster is what each example cluster must converge to.
type fleetCluster struct {
	name     string
	region   string
	replicas int32
}

// TestExampleFleetConverges gives each cluster of examples/fleet its own
// kube-apiserver and its own agent process, bootstrapped the way `flotilla
// bootstrap` will (a GitRepository and a root Stack for clusters/<name>), and
// waits for every Stack of every cluster to be Ready at the pushed revision.
func TestExampleFleetConverges(t *testing.T) {
	controlplane.Require(t, env)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	copyTree(t, filepath.Join(controlplane.ModuleRoot(), "examples", "fleet"), wd)
	sha := wd.Commit(t, "fleet")
	wd.Push(t, "main")
	revision := "main@sha1:" + sha

	clusters := []fleetCluster{{"staging", "local", 1}, {"prod-us-east", "us-east-1", 3}, {"prod-eu-west", "eu-west-1", 3}}
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cp := startControlPlane(t)
			bootstrap(t, cp.Client, root.FileURL("fleet"), "./clusters/"+c.name)
			startAgent(t, "--kubeconfig", cp.Kubeconfig)
			for _, stack := range []string{"cluster", "infrastructure", "infra-configs", "apps"} {
				waitStackApplied(t, cp.Client, client.ObjectKey{Namespace: "flotilla-system", Name: stack}, revision)
			}
			assertClusterValues(t, cp.Client, c)
			assertHandEditReverted(t, cp.Client, c)
			assertDriftCommandNamesEditor(t, cp.Kubeconfig)
		})
	}
}

func startControlPlane(t *testing.T) *controlplane.Env {
	t.Helper()
	cp, err := controlplane.Start()
	if err != nil {
		t.Fatalf("starting a control plane: %v", err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	return cp
}

// bootstrap creates what `flotilla bootstrap` creates: the namespace, the
// GitRepository and the root Stack of one cluster.
func bootstrap(t *testing.T, c client.Client, url, path string) {
	t.Helper()
	ctx := context.Background()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flotilla-system"}},
		&v1alpha1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: "fleet"},
			Spec:       v1alpha1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Minute}},
		},
		&v1alpha1.Stack{
			ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: "cluster"},
			Spec: v1alpha1.StackSpec{
				SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
				Path:      path, Interval: metav1.Duration{Duration: 10 * time.Minute}, Prune: true,
			},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

func waitStackApplied(t *testing.T, c client.Client, key client.ObjectKey, revision string) {
	t.Helper()
	var s v1alpha1.Stack
	eventually(t, fmt.Sprintf("Stack %s Ready at %s", key, revision), func() (bool, string) {
		if err := c.Get(context.Background(), key, &s); err != nil {
			return false, err.Error()
		}
		return stackspec.ReadyAt(&s, revision), stackspec.Describe(&s)
	})
}

// assertClusterValues checks what differs per cluster: replicas and region.
func assertClusterValues(t *testing.T, c client.Client, want fleetCluster) {
	t.Helper()
	ctx := context.Background()
	var cm corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKey{Namespace: "hello", Name: "hello-config"}, &cm); err != nil {
		t.Fatalf("hello-config: %v", err)
	}
	if cm.Data["REGION"] != want.region {
		t.Errorf("REGION = %q, want %q", cm.Data["REGION"], want.region)
	}
	var d appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: "hello", Name: "hello"}, &d); err != nil {
		t.Fatalf("hello deployment: %v", err)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != want.replicas {
		t.Errorf("replicas = %v, want %d", d.Spec.Replicas, want.replicas)
	}
}

// assertHandEditReverted edits a managed field as a person would and
// waits for the agent to put the Git value back and name the editor.
func assertHandEditReverted(t *testing.T, c client.Client, want fleetCluster) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "hello", Name: "hello-config"}}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"data":{"REGION":"hand-edited"}}`))
	if err := c.Patch(ctx, cm, patch, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatalf("editing hello-config: %v", err)
	}
	eventually(t, "the hand edit to be reverted and attributed", func() (bool, string) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
			return false, err.Error()
		}
		var s v1alpha1.Stack
		if err := c.Get(ctx, client.ObjectKey{Namespace: "flotilla-system", Name: "apps"}, &s); err != nil {
			return false, err.Error()
		}
		attributed := len(s.Status.Drift) > 0 && s.Status.Drift[0].Manager == "kubectl-edit"
		return cm.Data["REGION"] == want.region && attributed, fmt.Sprintf("REGION=%s drift=%+v", cm.Data["REGION"], s.Status.Drift)
	})
}

// assertDriftCommandNamesEditor runs `flotilla drift` as a person would.
func assertDriftCommandNamesEditor(t *testing.T, kubeconfig string) {
	t.Helper()
	out, err := exec.Command(flotillaBin, "drift", "--kubeconfig", kubeconfig, "-n", "flotilla-system").CombinedOutput()
	if err != nil {
		t.Fatalf("flotilla drift: %v\n%s", err, out)
	}
	for _, want := range []string{"MANAGER", "apps", "ConfigMap/hello/hello-config", "kubectl-edit", "corrected"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("flotilla drift output lacks %q:\n%s", want, out)
		}
	}
}

// copyTree copies the regular files under src into the work tree.
func copyTree(t *testing.T, src string, wd *gitserver.Workdir) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		wd.WriteFile(t, filepath.ToSlash(rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}
