package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestObjectReaderGet(t *testing.T) {
	r := newObjectReader([]*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vars, namespace: flotilla-system}\ndata: {REGION: eu}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vars, namespace: ops}\ndata: {REGION: us}\n"),
		obj(t, "apiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: lookalike, namespace: flotilla-system}\ndata: {REGION: no}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken, namespace: flotilla-system}\ndata: {REGION: [not, a, string]}\n"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nowhere}\ndata: {REGION: none}\n"),
	})
	for _, tc := range []struct {
		name, namespace, objName string
		want                     string // the REGION read, or
		wantErr                  string // the error
		notFound                 bool
	}{
		{name: "in the agent's namespace", namespace: DefaultNamespace, objName: "vars", want: "eu"},
		{name: "no namespace is not a namespace: the agent refuses such a root", namespace: DefaultNamespace, objName: "nowhere", notFound: true, wantErr: `configmaps "nowhere" not found`},
		{name: "a namespace of its own", namespace: "ops", objName: "vars", want: "us"},
		{name: "not in that namespace", namespace: "team-a", objName: "vars", notFound: true, wantErr: `configmaps "vars" not found`},
		{name: "a kind of another group is not a ConfigMap", namespace: DefaultNamespace, objName: "lookalike", notFound: true, wantErr: `configmaps "lookalike" not found`},
		{name: "fields that do not decode name the object", namespace: DefaultNamespace, objName: "broken", wantErr: "ConfigMap flotilla-system/broken in the repository: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cm corev1.ConfigMap
			err := r.Get(t.Context(), client.ObjectKey{Namespace: tc.namespace, Name: tc.objName}, &cm)
			if tc.wantErr == "" {
				if err != nil || cm.Data["REGION"] != tc.want {
					t.Errorf("REGION = %q, err %v; want %q", cm.Data["REGION"], err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || apierrors.IsNotFound(err) != tc.notFound {
				t.Errorf("err = %v (not found: %v), want %q (not found: %v)", err, apierrors.IsNotFound(err), tc.wantErr, tc.notFound)
			}
		})
	}
}

func TestObjectReaderServesOnlyConfigMapsAndSecrets(t *testing.T) {
	r := newObjectReader(nil)
	err := r.Get(t.Context(), client.ObjectKey{Namespace: "a", Name: "p"}, &corev1.Pod{})
	if err == nil || err.Error() != "plan cannot read a *v1.Pod from the repository" {
		t.Errorf("Get of a Pod: %v", err)
	}
	if err := r.List(t.Context(), &corev1.ConfigMapList{}); !errors.Is(err, errListUnsupported) {
		t.Errorf("List: %v, want errListUnsupported", err)
	}
	var s corev1.Secret
	if err := r.Get(t.Context(), client.ObjectKey{Namespace: "a", Name: "s"}, &s); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `secrets "s"`) {
		t.Errorf("Get of a missing Secret: %v, want NotFound naming secrets \"s\"", err)
	}
}

func TestStringDataOfARepositorySecretWinsOverData(t *testing.T) {
	r := newObjectReader([]*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: flotilla-system}\ndata: {TOKEN: b2xk}\nstringData: {TOKEN: new}\n"),
	})
	var s corev1.Secret
	if err := r.Get(t.Context(), client.ObjectKey{Namespace: DefaultNamespace, Name: "s"}, &s); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Data["TOKEN"]); got != "new" {
		t.Errorf("TOKEN = %q, want stringData's value, as the API server stores it", got)
	}
}

func TestRootStack(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  SourceRef
	}{
		{"the default source", SourceRef{Namespace: DefaultNamespace, Name: DefaultSource}},
		{"another source, in its own namespace", SourceRef{Namespace: "ops", Name: "platform"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := rootStack("prod-eu", tc.src)
			want := v1alpha1.StackSpec{
				SourceRef: v1alpha1.SourceReference{Kind: "GitRepository", Name: tc.src.Name},
				Path:      "clusters/prod-eu",
				Prune:     true,
			}
			if diff := cmp.Diff(want, st.Spec); diff != "" {
				t.Errorf("root Stack spec (-want +got):\n%s", diff)
			}
			if st.Name != RootStack || st.Namespace != tc.src.Namespace {
				t.Errorf("root Stack is %s/%s, want %s/%s as bootstrap makes it", st.Namespace, st.Name, tc.src.Namespace, RootStack)
			}
			if !readsSource(st, tc.src) {
				t.Errorf("the root Stack does not read %s", tc.src)
			}
		})
	}
}

// dependent is the Stack ns/name that dependsOn the Stacks deps of its namespace.
func dependent(ns, name string, deps ...string) *v1alpha1.Stack {
	s := &v1alpha1.Stack{}
	s.Namespace, s.Name = ns, name
	for _, d := range deps {
		s.Spec.DependsOn = append(s.Spec.DependsOn, v1alpha1.DependencyReference{Name: d})
	}
	return s
}

func TestOrderStacksAcrossRevisions(t *testing.T) {
	// At head, b depends on a; at base, a depended on b. Head's order wins,
	// and a Stack gone at head (old) is still planned.
	head := map[stackID]*v1alpha1.Stack{{"x", "a"}: dependent("x", "a"), {"x", "b"}: dependent("x", "b", "a")}
	base := map[stackID]*v1alpha1.Stack{{"x", "a"}: dependent("x", "a", "b"), {"x", "b"}: dependent("x", "b"), {"w", "old"}: dependent("w", "old")}
	var got []string
	for _, id := range orderStacks(head, base) {
		got = append(got, id.namespace+"/"+id.name)
	}
	if diff := cmp.Diff([]string{"w/old", "x/a", "x/b"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if got := orderStacks(); len(got) != 0 {
		t.Errorf("order of no Stacks = %v", got)
	}
}
