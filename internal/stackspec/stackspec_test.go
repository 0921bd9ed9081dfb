package stackspec

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/render"
)

func stackWith(pb *v1alpha1.PostBuild) *v1alpha1.Stack {
	return &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apps"}, Spec: v1alpha1.StackSpec{PostBuild: pb}}
}

func TestVariablesInlineWinsAndSecretValuesAreRedacted(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "vars"}, Data: map[string]string{"REGION": "eu", "TIER": "gold"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "creds"}, Data: map[string][]byte{"TOKEN": []byte("s3cr3t-marker")}},
	).Build()
	obj := stackWith(&v1alpha1.PostBuild{
		Substitute: map[string]string{"TIER": "silver"},
		SubstituteFrom: []v1alpha1.SubstituteReference{
			{Kind: "ConfigMap", Name: "vars"}, {Kind: "Secret", Name: "creds"}, {Kind: "ConfigMap", Name: "absent", Optional: true},
		},
	})
	vars, red, err := Variables(t.Context(), c, obj)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"REGION": "eu", "TIER": "silver", "TOKEN": "s3cr3t-marker"}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if got := red.String("token is s3cr3t-marker"); got == "token is s3cr3t-marker" {
		t.Errorf("the Secret's value is not redacted: %q", got)
	}
}

func TestVariablesMissingReferenceNamesIt(t *testing.T) {
	c := fake.NewClientBuilder().Build()
	obj := stackWith(&v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "Secret", Name: "gone"}}})
	_, _, err := Variables(t.Context(), c, obj)
	var ve *VariablesError
	if !errors.As(err, &ve) || !apierrors.IsNotFound(err) {
		t.Fatalf("err = %v, want a *VariablesError wrapping NotFound", err)
	}
	want := "postBuild.substituteFrom Secret team-a/gone: not found (create it, or mark the reference optional)"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

func TestVariablesWithoutPostBuildAreNil(t *testing.T) {
	vars, _, err := Variables(t.Context(), fake.NewClientBuilder().Build(), stackWith(nil))
	if err != nil || vars != nil {
		t.Errorf("Variables = %v, %v; want nil, nil (no substitution)", vars, err)
	}
}

func TestRenderOptionsCarryEverySpecField(t *testing.T) {
	obj := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{
		Path: "./apps", TargetNamespace: "web",
		CommonMetadata: &v1alpha1.CommonMetadata{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "x"}},
		Patches:        []v1alpha1.Patch{{Patch: "p", Target: &v1alpha1.PatchSelector{Kind: "Deployment", LabelSelector: "app=web"}}},
		Images:         []v1alpha1.Image{{Name: "nginx", NewTag: "1.27"}},
	}}
	got := RenderOptions(obj, "/artifact", map[string]string{"A": "b"})
	want := render.Options{
		Root: "/artifact", Path: "./apps", TargetNamespace: "web", Substitute: map[string]string{"A": "b"},
		CommonLabels: map[string]string{"team": "a"}, CommonAnnotations: map[string]string{"note": "x"},
		Patches: []render.Patch{{Patch: "p", Target: &render.Selector{Kind: "Deployment", LabelSelector: "app=web"}}},
		Images:  []render.Image{{Name: "nginx", NewTag: "1.27"}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(render.Options{})); diff != "" {
		t.Errorf("render options (-want +got):\n%s", diff)
	}
}

func TestInventoryRoundTripIsSorted(t *testing.T) {
	objs := []apply.ObjMetadata{
		{Version: "v1", Kind: "Service", Namespace: "web", Name: "b"},
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "a"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "c"},
	}
	inv := ToInventory(objs)
	var kinds []string
	for _, e := range inv {
		kinds = append(kinds, e.Kind)
	}
	if diff := cmp.Diff([]string{"ConfigMap", "Service", "Deployment"}, kinds); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if got := FromInventory(inv); len(got) != 3 || got[2] != objs[1] {
		t.Errorf("FromInventory(ToInventory) = %+v", got)
	}
}
