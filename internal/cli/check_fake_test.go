package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// checkerOn is a checker of namespace ns on a fake client holding objs,
// with CRDs in its scheme as newChecker has, and funcs intercepting it.
func checkerOn(t *testing.T, ns string, funcs interceptor.Funcs, objs ...client.Object) *checker {
	t.Helper()
	scheme := v1alpha1.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
	return &checker{c: c, host: "https://127.0.0.1:6443", namespace: ns}
}

// crd is a CRD of the given name, Established or not.
func crd(name string, established apiextensionsv1.ConditionStatus) *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: apiextensionsv1.CustomResourceDefinitionStatus{Conditions: []apiextensionsv1.CustomResourceDefinitionCondition{
			{Type: apiextensionsv1.NamesAccepted, Status: apiextensionsv1.ConditionTrue},
			{Type: apiextensionsv1.Established, Status: established},
		}},
	}
}

func TestCheckCRDs(t *testing.T) {
	cases := []struct {
		name string
		objs []client.Object
		want []checkResult
	}{
		{"none installed", nil, []checkResult{
			{Message: "CRD gitrepositories.flotilla.io is not installed", Fix: installHint},
			{Message: "CRD stacks.flotilla.io is not installed", Fix: installHint},
		}},
		{"one Established, one not yet", []client.Object{crd("gitrepositories.flotilla.io", apiextensionsv1.ConditionTrue), crd("stacks.flotilla.io", apiextensionsv1.ConditionFalse)},
			[]checkResult{
				{OK: true, Message: "CRD gitrepositories.flotilla.io is Established"},
				{Message: "CRD stacks.flotilla.io is not Established", Fix: "see `kubectl describe crd stacks.flotilla.io`"},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkerOn(t, "flotilla-system", interceptor.Funcs{}, tc.objs...).crds(t.Context())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("crds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckCRDsThatCannotBeRead(t *testing.T) {
	ch := checkerOn(t, "flotilla-system", interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return errors.New("forbidden")
		},
	})
	got := ch.crds(t.Context())
	want := []checkResult{
		{Message: "CRD gitrepositories.flotilla.io cannot be read: forbidden"},
		{Message: "CRD stacks.flotilla.io cannot be read: forbidden"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("crds (-want +got):\n%s", diff)
	}
}

func TestCrdEstablished(t *testing.T) {
	if crdEstablished(&apiextensionsv1.CustomResourceDefinition{}) {
		t.Error("a CRD without conditions is Established")
	}
	if !crdEstablished(crd("x", apiextensionsv1.ConditionTrue)) || crdEstablished(crd("x", apiextensionsv1.ConditionUnknown)) {
		t.Error("Established is not read from its condition")
	}
}

func TestCheckAgentDeployment(t *testing.T) {
	available := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: agentName},
		Status: appsv1.DeploymentStatus{AvailableReplicas: 1, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue},
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue},
		}},
	}
	scaled := available.DeepCopy()
	scaled.Spec.Replicas = ptr.To(int32(3))
	scaled.Status.AvailableReplicas = 2
	cases := []struct {
		name string
		ns   string
		objs []client.Object
		want checkResult
	}{
		{"not installed in the namespace", "flotilla-system", []client.Object{available}, checkResult{
			Message: "Deployment flotilla-system/flotilla-agent not found: the agent is not installed in flotilla-system",
			Fix:     installHint + " (or pass -n with the agent's namespace)"}},
		{"available, spec.replicas unset counts 1", "team-a", []client.Object{available}, checkResult{OK: true,
			Message: "Deployment team-a/flotilla-agent is available (1/1 replicas)"}},
		{"available with fewer replicas than desired", "team-a", []client.Object{scaled}, checkResult{OK: true,
			Message: "Deployment team-a/flotilla-agent is available (2/3 replicas)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkerOn(t, tc.ns, interceptor.Funcs{}, tc.objs...).agentDeployment(t.Context())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("agentDeployment (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckDeploymentWithSomeReplicasUpDoesNotBlameALease: the hint about
// an agent outside the cluster is for a Deployment with no replica up.
func TestCheckDeploymentWithSomeReplicasUpDoesNotBlameALease(t *testing.T) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: agentName},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(2))},
		Status:     appsv1.DeploymentStatus{AvailableReplicas: 1},
	}
	r := deploymentResult(d)
	want := checkResult{Message: "Deployment flotilla-system/flotilla-agent is not available (1/2 replicas)",
		Fix: "see `kubectl -n flotilla-system describe deployment flotilla-agent` and `kubectl -n flotilla-system logs deployment/flotilla-agent`"}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("deploymentResult (-want +got):\n%s", diff)
	}
}

// reviewer answers access reviews: allowed unless the attribute is in
// denied (as describeAccess words it); it records the subject reviewed.
func reviewer(denied map[string]bool, subjects *[]string) interceptor.Funcs {
	return interceptor.Funcs{Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
		switch r := obj.(type) {
		case *authorizationv1.SubjectAccessReview:
			*subjects = append(*subjects, r.Spec.User)
			r.Status.Allowed = !denied[describeAccess(*r.Spec.ResourceAttributes)]
		case *authorizationv1.SelfSubjectAccessReview:
			*subjects = append(*subjects, "self")
			r.Status.Allowed = !denied[describeAccess(*r.Spec.ResourceAttributes)]
		default:
			return errors.New("unexpected create")
		}
		return nil
	}}
}

func TestCheckAgentRBAC(t *testing.T) {
	cases := []struct {
		name   string
		denied map[string]bool
		want   checkResult
	}{
		{"every right", nil, checkResult{OK: true,
			Message: "ServiceAccount team-a/flotilla-agent may list, watch and patch Stacks and GitRepositories and their status"}},
		{"the denied rights are named", map[string]bool{"patch stacks/status": true, "watch gitrepositories": true}, checkResult{
			Message: "ServiceAccount team-a/flotilla-agent may not patch stacks/status, watch gitrepositories",
			Fix:     installHint + " (it creates the agent's ClusterRole and binding)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var subjects []string
			got := checkerOn(t, "team-a", reviewer(tc.denied, &subjects)).agentRBAC(t.Context())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("agentRBAC (-want +got):\n%s", diff)
			}
			if len(subjects) != len(agentAccess()) || subjects[0] != "system:serviceaccount:team-a:flotilla-agent" {
				t.Errorf("reviewed %q, want %d reviews of the agent's ServiceAccount", subjects, len(agentAccess()))
			}
		})
	}
}

func TestCheckRBACWhenReviewsFail(t *testing.T) {
	fail := interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
		return errors.New("the server could not find the requested resource")
	}}
	ch := checkerOn(t, "flotilla-system", fail)
	if r := ch.agentRBAC(t.Context()); r.OK || r.Message != "the permissions of system:serviceaccount:flotilla-system:flotilla-agent cannot be reviewed: the server could not find the requested resource" {
		t.Errorf("agentRBAC = %+v", r)
	}
	if r := ch.installRights(t.Context()); r.OK || r.Message != "your permissions cannot be reviewed: the server could not find the requested resource" {
		t.Errorf("installRights = %+v", r)
	}
}

func TestCheckInstallRights(t *testing.T) {
	cases := []struct {
		name   string
		denied map[string]bool
		want   checkResult
	}{
		{"cluster-admin", nil, checkResult{OK: true, Message: "you may create CRDs, ClusterRoles and ClusterRoleBindings"}},
		{"a namespace admin", map[string]bool{"create customresourcedefinitions": true, "create clusterroles": true, "create clusterrolebindings": true},
			checkResult{Message: "you may not create customresourcedefinitions, create clusterroles, create clusterrolebindings",
				Fix: "use a context with cluster-admin rights, or ask a cluster admin to run `flotilla install`"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var subjects []string
			got := checkerOn(t, "flotilla-system", reviewer(tc.denied, &subjects)).installRights(t.Context())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("installRights (-want +got):\n%s", diff)
			}
			if len(subjects) != 3 {
				t.Errorf("%d reviews, want 3 (CRDs, ClusterRoles, ClusterRoleBindings)", len(subjects))
			}
		})
	}
}

func TestAgentAccess(t *testing.T) {
	var got []string
	for _, a := range agentAccess() {
		if a.Group != v1alpha1.GroupVersion.Group || a.Namespace != "" {
			t.Errorf("%+v is not cluster-wide on %s", a, v1alpha1.GroupVersion.Group)
		}
		got = append(got, describeAccess(a))
	}
	want := []string{"list stacks", "watch stacks", "patch stacks", "patch stacks/status",
		"list gitrepositories", "watch gitrepositories", "patch gitrepositories", "patch gitrepositories/status"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agentAccess (-want +got):\n%s", diff)
	}
}
