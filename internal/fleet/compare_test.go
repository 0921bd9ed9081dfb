package fleet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func identity(s string) string { return s }

func TestDiffObjectReportsFieldPaths(t *testing.T) {
	cases := []struct {
		name, before, after string
		want                []FieldChange
	}{
		{
			name:   "key-order-and-formatting-ignored",
			before: "kind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1', y: '2'}\n",
			after:  "kind: ConfigMap\ndata:\n  y: \"2\"\n  x: \"1\"\nmetadata:\n  name: a\n",
		},
		{
			name:   "containers-matched-by-name-not-index",
			before: "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a:1}\n  - {name: b, image: b:1}\n",
			after:  "kind: Pod\nspec:\n  containers:\n  - {name: b, image: b:2}\n  - {name: a, image: a:1}\n",
			want:   []FieldChange{{Path: "spec.containers[name=b].image", Op: FieldChanged, Before: `"b:1"`, After: `"b:2"`}},
		},
		{
			name:   "lists-without-names-by-index",
			before: "kind: Pod\nspec:\n  args: [a, b]\n",
			after:  "kind: Pod\nspec:\n  args: [a, c, d]\n",
			want: []FieldChange{
				{Path: "spec.args[1]", Op: FieldChanged, Before: `"b"`, After: `"c"`},
				{Path: "spec.args[2]", Op: FieldAdded, After: `"d"`},
			},
		},
		{
			name:   "keys-with-dots-are-quoted",
			before: "kind: ConfigMap\nmetadata:\n  labels: {app.kubernetes.io/name: a}\n",
			after:  "kind: ConfigMap\nmetadata:\n  labels: {}\n",
			want:   []FieldChange{{Path: `metadata.labels["app.kubernetes.io/name"]`, Op: FieldRemoved, Before: `"a"`}},
		},
		{
			name:   "multi-line-strings-get-a-line-diff",
			before: "kind: ConfigMap\ndata:\n  conf: \"a\\nb\\nc\\n\"\n",
			after:  "kind: ConfigMap\ndata:\n  conf: \"a\\nB\\nc\\n\"\n",
			want:   []FieldChange{{Path: "data.conf", Op: FieldChanged, Lines: []string{"- b", "+ B"}}},
		},
		{
			name:   "a-number-that-becomes-a-string-is-a-change",
			before: "kind: Deployment\nspec: {replicas: 2}\n",
			after:  "kind: Deployment\nspec: {replicas: '2'}\n",
			want:   []FieldChange{{Path: "spec.replicas", Op: FieldChanged, Before: "2", After: `"2"`}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := diffObject(obj(t, tc.before), obj(t, tc.after), identity)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImmutableFieldsTable(t *testing.T) {
	cases := []struct {
		name, before string
		change       ObjectChange
		want         []string
	}{
		{"deployment-selector", "kind: Deployment", ObjectChange{Object: ObjectRef{Group: "apps", Kind: "Deployment"},
			Fields: []FieldChange{{Path: "spec.selector.matchLabels.app"}, {Path: "spec.replicas"}}}, []string{"spec.selector.matchLabels.app"}},
		{"service-cluster-ip", "kind: Service", ObjectChange{Object: ObjectRef{Kind: "Service"},
			Fields: []FieldChange{{Path: "spec.clusterIP"}, {Path: "spec.clusterIPsX"}}}, []string{"spec.clusterIP"}},
		{"job-template", "kind: Job", ObjectChange{Object: ObjectRef{Group: "batch", Kind: "Job"},
			Fields: []FieldChange{{Path: "spec.template.spec.containers[name=a].image"}}}, []string{"spec.template.spec.containers[name=a].image"}},
		{"pvc-storage-class", "kind: PersistentVolumeClaim", ObjectChange{Object: ObjectRef{Kind: "PersistentVolumeClaim"},
			Fields: []FieldChange{{Path: "spec.storageClassName"}}}, []string{"spec.storageClassName"}},
		{"configmap-not-marked", "kind: ConfigMap", ObjectChange{Object: ObjectRef{Kind: "ConfigMap"},
			Fields: []FieldChange{{Path: "data.a"}}}, nil},
		{"configmap-marked-immutable", "kind: ConfigMap\nimmutable: true", ObjectChange{Object: ObjectRef{Kind: "ConfigMap"},
			Fields: []FieldChange{{Path: "data.a"}}}, []string{"data.a"}},
		{"unknown-kind", "kind: Widget", ObjectChange{Object: ObjectRef{Group: "example.com", Kind: "Widget"},
			Fields: []FieldChange{{Path: "spec.selector"}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, immutableChanges(obj(t, tc.before), tc.change)); diff != "" {
				t.Errorf("immutable fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrderStacksFollowsDependsOn(t *testing.T) {
	st := func(name string, deps ...string) *v1alpha1.Stack { return dependent(DefaultNamespace, name, deps...) }
	set := map[stackID]*v1alpha1.Stack{}
	for _, s := range []*v1alpha1.Stack{st("apps", "configs"), st("configs", "infra"), st("infra"), st("alpha"), st("loop-a", "loop-b"), st("loop-b", "loop-a")} {
		set[stackID{s.Namespace, s.Name}] = s
	}
	var got []string
	for _, id := range orderStacks(set) {
		got = append(got, id.name)
	}
	want := []string{"alpha", "infra", "configs", "apps", "loop-a", "loop-b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestObjectReaderServesRepositorySecretsAsTheAPIServer(t *testing.T) {
	r := newObjectReader([]*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: flotilla-system}\ndata: {A: YQ==}\nstringData: {B: b}\n"),
	})
	var s corev1.Secret
	if err := r.Get(t.Context(), client.ObjectKey{Namespace: DefaultNamespace, Name: "s"}, &s); err != nil {
		t.Fatal(err)
	}
	if got := map[string]string{"A": string(s.Data["A"]), "B": string(s.Data["B"])}; !cmp.Equal(got, map[string]string{"A": "a", "B": "b"}) {
		t.Errorf("secret data = %v", got)
	}
	var cm corev1.ConfigMap
	if err := r.Get(t.Context(), client.ObjectKey{Namespace: DefaultNamespace, Name: "s"}, &cm); err == nil {
		t.Error("a ConfigMap that is not in the repository was found")
	}
}
