package fleet

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDiffObjectShapes(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		want                []FieldChange
	}{
		{
			name:   "a whole map removed is one change, its value compact JSON with sorted keys",
			before: "kind: Deployment\nspec: {strategy: {type: Recreate, extra: [1, 2]}}\n",
			after:  "kind: Deployment\nspec: {}\n",
			want:   []FieldChange{{Path: "spec.strategy", Op: FieldRemoved, Before: `{"extra":[1,2],"type":"Recreate"}`}},
		},
		{
			name:   "a scalar that becomes a map",
			before: "kind: X\nspec: {v: 1}\n",
			after:  "kind: X\nspec: {v: {a: 1}}\n",
			want:   []FieldChange{{Path: "spec.v", Op: FieldChanged, Before: "1", After: `{"a":1}`}},
		},
		{
			name:   "null is the field's absence",
			before: "kind: X\nspec: {v: null}\n",
			after:  "kind: X\nspec: {}\n",
		},
		{
			name:   "a value set where null was",
			before: "kind: X\nspec: {v: null}\n",
			after:  "kind: X\nspec: {v: 0}\n",
			want:   []FieldChange{{Path: "spec.v", Op: FieldAdded, After: "0"}},
		},
		{
			name:   "a single line that becomes two gets a line diff",
			before: "kind: X\ndata: {conf: a}\n",
			after:  "kind: X\ndata: {conf: \"a\\nb\"}\n",
			want:   []FieldChange{{Path: "data.conf", Op: FieldChanged, Lines: []string{"+ b"}}},
		},
		{
			name:   "a named item inserted in the middle shows alone",
			before: "kind: Pod\nspec:\n  containers: [{name: a, image: a}, {name: c, image: c}]\n",
			after:  "kind: Pod\nspec:\n  containers: [{name: a, image: a}, {name: b, image: b}, {name: c, image: c}]\n",
			want:   []FieldChange{{Path: "spec.containers[name=b]", Op: FieldAdded, After: `{"image":"b","name":"b"}`}},
		},
		{
			name:   "named items in the base's order, then the new ones",
			before: "kind: Pod\nspec:\n  env: [{name: Z, value: '1'}, {name: A, value: '1'}]\n",
			after:  "kind: Pod\nspec:\n  env: [{name: NEW, value: '1'}, {name: A, value: '2'}, {name: Z, value: '2'}]\n",
			want: []FieldChange{
				{Path: "spec.env[name=Z].value", Op: FieldChanged, Before: `"1"`, After: `"2"`},
				{Path: "spec.env[name=A].value", Op: FieldChanged, Before: `"1"`, After: `"2"`},
				{Path: "spec.env[name=NEW]", Op: FieldAdded, After: `{"name":"NEW","value":"1"}`},
			},
		},
		{
			name:   "an empty key is quoted",
			before: "kind: X\ndata: {'': a}\n",
			after:  "kind: X\ndata: {'': b}\n",
			want:   []FieldChange{{Path: `data[""]`, Op: FieldChanged, Before: `"a"`, After: `"b"`}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, diffObject(obj(t, tc.before), obj(t, tc.after), identity)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffObjectOfASecret(t *testing.T) {
	before := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: tls, labels: {tier: a}}\ntype: kubernetes.io/tls\n"+
		"data: {tls.crt: Y2VydA==, tls.key: a2V5}\n")
	after := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: tls, labels: {tier: b}}\ntype: Opaque\n"+
		"stringData: {tls.crt: new-cert}\ndata: {tls.key: a2V5}\n")
	got := diffObject(before, after, identity)
	want := []FieldChange{
		{Path: `data["tls.crt"]`, Op: FieldChanged, Hidden: true},
		{Path: "metadata.labels.tier", Op: FieldChanged, Before: `"a"`, After: `"b"`},
		{Path: "type", Op: FieldChanged, Before: `"kubernetes.io/tls"`, After: `"Opaque"`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	for _, f := range got {
		for _, secret := range []string{"new-cert", "Y2VydA==", "cert", "a2V5"} {
			if strings.Contains(f.Before+f.After+strings.Join(f.Lines, ""), secret) {
				t.Errorf("field %s shows %q", f.Path, secret)
			}
		}
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(before.Object, "data", "tls.crt"); !found {
		t.Error("diffObject modified the rendered Secret it compared")
	}
}

func TestDiffObjectMasksLineDiffs(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "hunter2", "***") }
	got := diffObject(
		obj(t, "kind: ConfigMap\ndata: {conf: \"user=a\\npassword=hunter2\\n\"}\n"),
		obj(t, "kind: ConfigMap\ndata: {conf: \"user=b\\npassword=hunter2 \\n\"}\n"),
		mask)
	want := []FieldChange{{Path: "data.conf", Op: FieldChanged, Lines: []string{"- user=a", "- password=***", "+ user=b", "+ password=*** "}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestCompareObjectsMatchesAcrossAPIVersions(t *testing.T) {
	before := []*unstructured.Unstructured{obj(t, "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: a}\nspec: {maxReplicas: 3}\n")}
	after := []*unstructured.Unstructured{obj(t, "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: a}\nspec: {maxReplicas: 3}\n")}
	c := compareObjects(before, after, identity)
	if len(c.added)+len(c.removed) != 0 || len(c.changed) != 1 {
		t.Fatalf("comparison = %+v, want one change of the API version", c)
	}
	want := ObjectChange{
		Object: ObjectRef{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler", Namespace: "a", Name: "web"},
		Fields: []FieldChange{{Path: "apiVersion", Op: FieldChanged, Before: `"autoscaling/v1"`, After: `"autoscaling/v2"`}},
	}
	if diff := cmp.Diff(want, c.changed[0]); diff != "" {
		t.Errorf("change (-want +got):\n%s", diff)
	}
}

func TestCompareObjectsKeepsNamespacesAndGroupsApart(t *testing.T) {
	before := []*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n"),
		obj(t, "apiVersion: a.example.com/v1\nkind: Widget\nmetadata: {name: w}\n"),
	}
	after := []*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: b}\n"),
		obj(t, "apiVersion: b.example.com/v1\nkind: Widget\nmetadata: {name: w}\n"),
	}
	c := compareObjects(before, after, identity)
	str := func(refs []ObjectRef) (out []string) {
		for _, r := range refs {
			out = append(out, r.String()+" "+r.Group)
		}
		return out
	}
	if diff := cmp.Diff([]string{"ConfigMap b/c ", "Widget w b.example.com"}, str(c.added)); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ConfigMap a/c ", "Widget w a.example.com"}, str(c.removed)); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
}
