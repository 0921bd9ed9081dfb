package redact

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(apiVersion, kind string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": "x"},
	}}
}

func TestIsSecret(t *testing.T) {
	cases := []struct {
		name string
		u    *unstructured.Unstructured
		want bool
	}{
		{"core v1 Secret", object("v1", "Secret"), true},
		{"Secret kind of another group", object("example.com/v1", "Secret"), false},
		{"sealed secret", object("bitnami.com/v1alpha1", "SealedSecret"), false},
		{"kind in lower case", object("v1", "secret"), false},
		{"ConfigMap", object("v1", "ConfigMap"), false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSecret(tc.u); got != tc.want {
				t.Errorf("IsSecret = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestMaskSecretKeepsEverythingButValues(t *testing.T) {
	in := secret(map[string]any{"password": b64(plantedValue)}, nil)
	in.Object["type"] = "kubernetes.io/basic-auth"
	in.SetLabels(map[string]string{"app": "db"})
	ann := in.GetAnnotations()
	ann["owner"] = "team-a"
	in.SetAnnotations(ann)
	out := MaskSecret(in)
	if out == in {
		t.Fatal("MaskSecret returned its input for a Secret")
	}
	if got := out.Object["type"]; got != "kubernetes.io/basic-auth" {
		t.Errorf("type = %v, want it kept", got)
	}
	if diff := cmp.Diff(map[string]string{"app": "db"}, out.GetLabels()); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"owner": "team-a"}, out.GetAnnotations()); diff != "" {
		t.Errorf("annotations: only the last-applied one goes (-want +got):\n%s", diff)
	}
	if _, ok := in.GetAnnotations()[lastAppliedAnnotation]; !ok {
		t.Error("MaskSecret removed the annotation from its input")
	}
	if got := in.Object["data"].(map[string]any)["password"]; got != b64(plantedValue) {
		t.Errorf("input data changed to %v", got)
	}
}

func TestMaskSecretWithoutValues(t *testing.T) {
	in := secret(nil, nil)
	out := MaskSecret(in)
	if _, ok := out.Object["data"]; ok {
		t.Errorf("a Secret without values got data: %v", out.Object["data"])
	}
	if ann := out.GetAnnotations(); ann != nil {
		t.Errorf("annotations = %v, want none once the last-applied one is gone", ann)
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(out.Object, "metadata", "annotations"); ok {
		t.Error("an empty annotations map is left in metadata")
	}
}

func TestMaskSecretWithoutAnnotations(t *testing.T) {
	in := object("v1", "Secret")
	in.Object["stringData"] = map[string]any{"k": plantedValue}
	out := MaskSecret(in)
	assertNoValue(t, out)
	if diff := cmp.Diff(map[string]any{"k": SecretValueMask}, out.Object["data"]); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if out.GetAnnotations() != nil {
		t.Errorf("annotations appeared: %v", out.GetAnnotations())
	}
}

func TestSecretValues(t *testing.T) {
	cases := []struct {
		name             string
		data, stringData map[string]any
		want             map[string]string
	}{
		{"data is decoded", map[string]any{"k": b64("v")}, nil, map[string]string{"k": "v"}},
		{"stringData wins over data", map[string]any{"k": b64("old")}, map[string]any{"k": "new"}, map[string]string{"k": "new"}},
		{"invalid base64 kept as written", map[string]any{"k": "not base64!"}, nil, map[string]string{"k": "not base64!"}},
		{"a value that is not a string is empty", map[string]any{"k": int64(3)}, map[string]any{"m": map[string]any{"a": "b"}}, map[string]string{"k": "", "m": ""}},
		{"no values", nil, nil, map[string]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, secretValues(secret(tc.data, tc.stringData))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaskSecretPairCases(t *testing.T) {
	cases := []struct {
		name                  string
		before, after         *unstructured.Unstructured
		wantBefore, wantAfter any
	}{
		{
			name:       "deleted Secret keeps its masks",
			before:     secret(map[string]any{"k": b64(plantedValue)}, nil),
			wantBefore: map[string]any{"k": SecretValueMask},
		},
		{
			name:       "same values on both sides",
			before:     secret(map[string]any{"a": b64("1"), "b": b64("2")}, nil),
			after:      secret(map[string]any{"a": b64("1"), "b": b64("2")}, nil),
			wantBefore: map[string]any{"a": SecretValueMask, "b": SecretValueMask},
			wantAfter:  map[string]any{"a": SecretValueMask, "b": SecretValueMask},
		},
		{
			name:       "every value emptied",
			before:     secret(map[string]any{"a": b64(plantedValue)}, nil),
			after:      secret(nil, nil),
			wantBefore: map[string]any{"a": SecretValueMask},
		},
		{
			name:      "created Secret",
			after:     secret(nil, map[string]any{"k": plantedValue}),
			wantAfter: map[string]any{"k": SecretValueMask},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, a := MaskSecretPair(tc.before, tc.after)
			if diff := cmp.Diff(tc.wantBefore, dataOf(b)); diff != "" {
				t.Errorf("before (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAfter, dataOf(a)); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
			for _, u := range []*unstructured.Unstructured{b, a} {
				if u != nil {
					assertNoValue(t, u)
				}
			}
		})
	}
}

// dataOf is the data of u, nil for nil or when there is none.
func dataOf(u *unstructured.Unstructured) any {
	if u == nil {
		return nil
	}
	return u.Object["data"]
}

func TestMaskSecretPairLeavesNonSecretsAlone(t *testing.T) {
	b, a := object("v1", "ConfigMap"), object("apps/v1", "Deployment")
	gotB, gotA := MaskSecretPair(b, a)
	if gotB != b || gotA != a {
		t.Error("objects that are not Secrets were copied")
	}
	if gotB, gotA := MaskSecretPair(nil, nil); gotB != nil || gotA != nil {
		t.Error("two nils did not stay nil")
	}
}

func TestLeaves(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want []string
	}{
		{"string", "s", []string{"s"}},
		{"int64", int64(-42), []string{"-42"}},
		{"int", 7, []string{"7"}},
		{"int32", int32(8), []string{"8"}},
		{"uint64", uint64(9), []string{"9"}},
		{"float written both ways", 1e21, []string{"1e+21", "1000000000000000000000"}},
		{"boolean left out", true, nil},
		{"null left out", nil, nil},
		{"list in order", []any{"a", int64(1), false}, []string{"a", "1"}},
		{"nested map", map[string]any{"k": []any{"deep"}}, []string{"deep"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, leaves(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddSecretsSkipsObjectsThatAreNotSecrets(t *testing.T) {
	cm := object("v1", "ConfigMap")
	cm.Object["data"] = map[string]any{"k": "configmap-value"}
	other := object("example.com/v1", "Secret")
	other.Object["stringData"] = map[string]any{"k": "custom-kind-value"}
	r := New()
	r.AddSecrets(cm, other, nil)
	msg := "configmap-value custom-kind-value"
	if got := r.String(msg); got != msg {
		t.Errorf("values of objects that are not core Secrets were masked: %q", got)
	}
}

func TestAddSecretsMasksDecodedAndEncodedData(t *testing.T) {
	r := New()
	r.AddSecrets(secret(map[string]any{"password": b64(plantedValue), "short": b64("ab")}, nil))
	got := r.String("decoded " + plantedValue + " encoded " + b64(plantedValue) + " short ab")
	if want := "decoded " + Mask + " encoded " + Mask + " short ab"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if strings.Contains(got, plantedValue) {
		t.Errorf("value leaks: %q", got)
	}
}
