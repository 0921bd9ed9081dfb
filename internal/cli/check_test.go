package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// fixedVersion is a discovery that reports one version, or an error.
type fixedVersion struct {
	git string
	err error
}

func (f fixedVersion) ServerVersion() (*k8sversion.Info, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &k8sversion.Info{GitVersion: f.git}, nil
}

func TestCheckServerVersion(t *testing.T) {
	cases := []struct {
		name   string
		v      fixedVersion
		ok     bool
		inText string
	}{
		{"current", fixedVersion{git: "v1.37.2"}, true, "kube-apiserver v1.37.2 (1.30 or newer)"},
		{"the oldest supported", fixedVersion{git: "v1.30.0"}, true, "v1.30.0"},
		{"a distribution's suffix", fixedVersion{git: "v1.31.4-eks-2d98532"}, true, "v1.31.4-eks"},
		{"too old", fixedVersion{git: "v1.29.9"}, false, "older than 1.30"},
		{"unreachable", fixedVersion{err: errors.New("connection refused")}, false, "cannot be reached"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &checker{version: tc.v, host: "https://127.0.0.1:6443"}
			r := ch.serverVersion()
			if r.OK != tc.ok || !strings.Contains(r.Message, tc.inText) {
				t.Errorf("serverVersion = %+v, want OK %t and %q", r, tc.ok, tc.inText)
			}
			if !r.OK && r.Fix == "" {
				t.Errorf("a failed check names no fix: %+v", r)
			}
		})
	}
}

func TestCheckLines(t *testing.T) {
	var out bytes.Buffer
	failed := printChecks(&out, palette{}, []checkResult{
		{OK: true, Message: "kube-apiserver v1.37.2 (1.30 or newer)"},
		{OK: true, Message: "CRD stacks.flotilla.io is Established"},
		{Message: "CRD gitrepositories.flotilla.io is not installed", Fix: installHint},
		{Message: "Deployment flotilla-system/flotilla-agent is not available (0/1 replicas)",
			Fix: "see `kubectl -n flotilla-system describe deployment flotilla-agent`"},
	})
	if failed != 2 {
		t.Errorf("failed = %d, want 2", failed)
	}
	golden(t, "check.golden", out.String())
}

// checkLines runs check with args and returns its lines and exit code.
func checkLines(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, _, err := run(t, append([]string{"check"}, args...)...)
	code, _ := ExitCode(err)
	return out, code
}

// wantLines checks that out holds each of want, as a line prefix.
func wantLinePrefixes(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for line := range strings.Lines(out) {
			found = found || strings.HasPrefix(line, w)
		}
		if !found {
			t.Errorf("no line starts with %q:\n%s", w, out)
		}
	}
}

func TestCheckWithTheCRDsInstalled(t *testing.T) {
	controlplane.Require(t, env)
	ns := uniqueName("check")
	createNamespace(t, env.Client, ns)
	flags := []string{"-n", ns, "--kubeconfig", env.Kubeconfig}

	out, code := checkLines(t, flags...)
	if code != ExitError {
		t.Errorf("exit code %d without an agent, want %d\n%s", code, ExitError, out)
	}
	wantLinePrefixes(t, out,
		"✔ kube-apiserver v1.",
		"✔ CRD gitrepositories.flotilla.io is Established",
		"✔ CRD stacks.flotilla.io is Established",
		"✖ Deployment "+ns+"/flotilla-agent not found",
		"✖ ServiceAccount "+ns+"/flotilla-agent may not list stacks, watch stacks, patch stacks",
		"  → run `flotilla install`")

	installAgentStandIn(t, ns)
	out, code = checkLines(t, flags...)
	if code != ExitOK {
		t.Errorf("exit code %d with the agent installed, want 0\n%s", code, out)
	}
	wantLinePrefixes(t, out,
		"✔ Deployment "+ns+"/flotilla-agent is available (1/1 replicas)",
		"✔ ServiceAccount "+ns+"/flotilla-agent may list, watch and patch")

	out, code = checkLines(t, append([]string{"--pre"}, flags...)...)
	if code != ExitOK || strings.Count(out, "\n") != 2 {
		t.Errorf("check --pre as cluster admin = exit %d:\n%s", code, out)
	}
	wantLinePrefixes(t, out, "✔ kube-apiserver v1.", "✔ you may create CRDs, ClusterRoles and ClusterRoleBindings")
}

// installAgentStandIn creates what `flotilla install` would for the checks:
// an available Deployment flotilla-agent (its status written by hand, as no
// controller-manager runs) and a ClusterRole bound to its ServiceAccount.
func installAgentStandIn(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	labels := map[string]string{"app": agentName}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: agentName},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{ServiceAccountName: agentName, Containers: []corev1.Container{{Name: "agent", Image: "flotilla:test"}}},
			},
		},
	}
	if err := env.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{Replicas: 1, AvailableReplicas: 1, ReadyReplicas: 1, Conditions: []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
	}}
	if err := env.Client.Status().Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-agent"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"flotilla.io"}, Resources: []string{"stacks", "gitrepositories", "stacks/status", "gitrepositories/status"},
			Verbs: []string{"get", "list", "watch", "patch", "update"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-agent"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: agentName}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(t.Context(), obj) })
	}
}

// startBareControlPlane starts a kube-apiserver without Flotilla's CRDs, as
// a cluster is before `flotilla install`, and returns kubeconfigs for a
// cluster admin and for a user with no rights at all.
func startBareControlPlane(t *testing.T) (admin, nobody string) {
	t.Helper()
	dir, err := controlplane.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	e := &envtest.Environment{BinaryAssetsDirectory: dir}
	if _, err := e.Start(); err != nil {
		t.Fatalf("starting a control plane without CRDs: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	write := func(user envtest.User) string {
		u, err := e.AddUser(user, nil)
		if err != nil {
			t.Fatal(err)
		}
		kc, err := u.KubeConfig()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), user.Name)
		if err := os.WriteFile(path, kc, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write(envtest.User{Name: "admin", Groups: []string{"system:masters"}}), write(envtest.User{Name: "nobody"})
}

func TestCheckBeforeInstall(t *testing.T) {
	controlplane.Require(t, env)
	admin, nobody := startBareControlPlane(t)

	out, code := checkLines(t, "--kubeconfig", admin)
	if code != ExitError {
		t.Errorf("exit code %d without the CRDs, want %d\n%s", code, ExitError, out)
	}
	wantLinePrefixes(t, out,
		"✔ kube-apiserver v1.",
		"✖ CRD gitrepositories.flotilla.io is not installed",
		"✖ CRD stacks.flotilla.io is not installed",
		"  → run `flotilla install`")

	out, code = checkLines(t, "--pre", "--kubeconfig", admin)
	if code != ExitOK {
		t.Errorf("check --pre as admin = exit %d\n%s", code, out)
	}
	out, code = checkLines(t, "--pre", "--kubeconfig", nobody)
	if code != ExitError {
		t.Errorf("check --pre without rights = exit %d, want %d\n%s", code, ExitError, out)
	}
	wantLinePrefixes(t, out,
		"✖ you may not create customresourcedefinitions, create clusterroles, create clusterrolebindings",
		"  → use a context with cluster-admin rights")
}

func TestCheckUnreachableCluster(t *testing.T) {
	controlplane.Require(t, env)
	kubeconfig := fleetKubeconfig(t, map[string]*controlplane.Env{"alpha": env}, "down")
	out, code := checkLines(t, "--kubeconfig", kubeconfig, "--context", "down")
	if code != ExitError || strings.Count(out, "✖") != 1 || strings.Contains(out, "✔") {
		t.Errorf("check of an unreachable cluster = exit %d, want one failed line and nothing else:\n%s", code, out)
	}
	wantLinePrefixes(t, out, "✖ kube-apiserver at https://127.0.0.1:", "  → check --kubeconfig and --context")
}

func TestCheckDeploymentCountsDesiredReplicas(t *testing.T) {
	one := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: agentName},
		Spec:       appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable"},
		}},
	}
	r := deploymentResult(d)
	if r.OK || r.Message != "Deployment flotilla-system/flotilla-agent is not available (0/1 replicas)" {
		t.Errorf("result = %+v, want not available (0/1 replicas)", r)
	}
	if !strings.Contains(r.Fix, "outside the cluster") || !strings.Contains(r.Fix, agent.LeaderElectionID) {
		t.Errorf("fix = %q, want it to mention an agent outside the cluster and its Lease", r.Fix)
	}
}
