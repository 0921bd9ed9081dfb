package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// agentFixture is a namespace watched by an agent of its own (the real
// controllers, in-process), a Git repository served from a file:// URL and
// the GitRepository "fleet" that points at it.
type agentFixture struct {
	ns   string
	wd   *gitserver.Workdir
	root *gitserver.Root
}

// newAgentFixture creates the namespace, pushes files and starts an agent
// that reconciles that namespace only, stopped when the test ends.
func newAgentFixture(t *testing.T, files map[string]string) *agentFixture {
	t.Helper()
	controlplane.Require(t, env)
	f := &agentFixture{ns: uniqueName("agent"), root: gitserver.NewRoot(t)}
	createNamespace(t, env.Client, f.ns)
	f.root.InitBare(t, "fleet")
	f.wd = gitserver.NewWorkdir(t, f.root.Path("fleet"))
	f.push(t, files)
	startAgent(t, f.ns)
	src := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: f.root.FileURL("fleet"), Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := env.Client.Create(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	return f
}

// push commits files and pushes them; it returns the revision.
func (f *agentFixture) push(t *testing.T, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		f.wd.WriteFile(t, p, c)
	}
	sha := f.wd.Commit(t, "update")
	f.wd.Push(t, "main")
	return "main@sha1:" + sha
}

// createStack creates a Stack rendering path of the fleet source.
func (f *agentFixture) createStack(t *testing.T, name, path string) {
	t.Helper()
	st := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:      path, Interval: metav1.Duration{Duration: time.Hour},
			Timeout: &metav1.Duration{Duration: 20 * time.Second}, Prune: true,
		},
	}
	if err := env.Client.Create(t.Context(), st); err != nil {
		t.Fatal(err)
	}
}

// configMapValue reads data.value of a ConfigMap of the fixture's namespace.
func (f *agentFixture) configMapValue(t *testing.T, name string) string {
	t.Helper()
	var cm corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: name}, &cm); err != nil {
		t.Fatalf("reading ConfigMap %s: %v", name, err)
	}
	return cm.Data["value"]
}

// configMapManifest is a kustomization directory's files with one ConfigMap.
func configMapManifest(dir, ns, name, value string) map[string]string {
	return map[string]string{
		dir + "/kustomization.yaml": "resources:\n- configmap.yaml\n",
		dir + "/configmap.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n",
			name, ns, value),
	}
}

// testWait is the --timeout of the tests that wait: long enough for a slow
// machine, short enough that a hang fails the test.
const testWait = "90s"

func TestReconcileStackWithSource(t *testing.T) {
	f := newAgentFixture(t, map[string]string{"README.md": "fleet\n"})
	f.push(t, configMapManifest("apps", f.ns, "settings", "one"))
	f.createStack(t, "apps", "apps")
	rev := f.push(t, configMapManifest("apps", f.ns, "settings", "two"))

	out, errOut, err := run(t, "reconcile", "stack", "apps", "--with-source", "-n", f.ns, "--kubeconfig", env.Kubeconfig, "--timeout", testWait)
	if err != nil {
		t.Fatalf("reconcile: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	for _, want := range []string{
		"► reconcile of GitRepository " + f.ns + "/fleet requested",
		"✔ GitRepository " + f.ns + "/fleet: fetched revision " + rev,
		"► reconcile of Stack " + f.ns + "/apps requested",
		"✔ Stack " + f.ns + "/apps: applied revision " + rev,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := f.configMapValue(t, "settings"); got != "two" {
		t.Errorf("ConfigMap settings = %q after the reconcile, want the pushed value two", got)
	}
}

func TestReconcileReportsTheFailure(t *testing.T) {
	f := newAgentFixture(t, map[string]string{"broken/kustomization.yaml": "resources:\n- missing.yaml\n"})
	f.createStack(t, "broken", "broken")

	out, _, err := run(t, "reconcile", "stack", "broken", "--with-source", "-n", f.ns, "--kubeconfig", env.Kubeconfig, "--timeout", testWait)
	var failed *ReconcileFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("reconcile = %v, want a *ReconcileFailedError\n%s", err, out)
	}
	if code, _ := ExitCode(err); code == ExitOK {
		t.Errorf("exit code %d for a failed reconcile", code)
	}
	t.Logf("reconcile of a broken Stack: %v", err)
	if failed.Reason != v1alpha1.ReasonBuildFailed || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("error = %v (reason %s), want BuildFailed naming missing.yaml", err, failed.Reason)
	}
	if strings.Contains(out, "✔ Stack") {
		t.Errorf("a failed reconcile printed success:\n%s", out)
	}
}

func TestReconcileUnknownNameSuggestsOne(t *testing.T) {
	controlplane.Require(t, env)
	ns := uniqueName("reconcile-nf")
	createNamespace(t, env.Client, ns)
	createWithStatus(t, env.Client, fixtureStack(ns, "apps", 0, false, ""))
	_, _, err := run(t, "reconcile", "stack", "app", "-n", ns, "--kubeconfig", env.Kubeconfig)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Suggestion != "apps" {
		t.Fatalf("reconcile = %v, want a NotFoundError suggesting apps", err)
	}
	if _, _, err := run(t, "reconcile", "deployment", "apps", "-n", ns, "--kubeconfig", env.Kubeconfig); err == nil ||
		!strings.Contains(err.Error(), "use source or stack") {
		t.Errorf("reconcile deployment = %v, want the kinds named", err)
	}
}

func TestReconcileRefusesWithSourceOnASource(t *testing.T) {
	_, _, err := run(t, "reconcile", "source", "fleet", "--with-source", "--kubeconfig", "/nonexistent/kubeconfig")
	if err == nil || !strings.Contains(err.Error(), "--with-source applies to a Stack") {
		t.Fatalf("reconcile source --with-source = %v, want a refusal", err)
	}
}

func TestReconcileAndResumeReportATimeoutNamingIt(t *testing.T) {
	controlplane.Require(t, env)
	ns := uniqueName("reconcile-to")
	createNamespace(t, env.Client, ns)
	createWithStatus(t, env.Client, fixtureStack(ns, "apps", 0, false, ""))
	// A deadline already past: the first read fails with it, whatever the
	// machine's speed.
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	kube := KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: ns}
	s := Streams{Out: &strings.Builder{}, ErrOut: &strings.Builder{}}
	want := "timed out waiting for Stack " + ns + "/apps to reconcile (--timeout 1ms)"
	rec := &ReconcileOptions{Kube: kube, Kind: "stack", Name: "apps", Timeout: time.Millisecond}
	if err := rec.Run(ctx, s); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("reconcile = %v, want it to start with %q", err, want)
	}
	res := &SuspendOptions{Kube: kube, Kind: "stack", Name: "apps", Wait: true, Timeout: time.Millisecond}
	if err := res.Run(ctx, s); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("resume = %v, want it to start with %q", err, want)
	}
}
