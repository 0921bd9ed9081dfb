package redact

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const plantedValue = "planted-secret-marker-7f3a"

func secret(data, stringData map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "db", "namespace": "app", "annotations": map[string]any{
			lastAppliedAnnotation: `{"data":{"password":"` + plantedValue + `"}}`,
		}},
	}}
	if data != nil {
		u.Object["data"] = data
	}
	if stringData != nil {
		u.Object["stringData"] = stringData
	}
	return u
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// assertNoValue fails when the planted value shows in u, in clear or base64.
func assertNoValue(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	b, _ := json.Marshal(u)
	for _, form := range []string{plantedValue, b64(plantedValue)} {
		if strings.Contains(string(b), form) {
			t.Errorf("masked object holds the secret value (%q): %s", form, b)
		}
	}
}

func TestMaskSecretHidesEveryValue(t *testing.T) {
	in := secret(map[string]any{"password": b64(plantedValue)}, map[string]any{"token": plantedValue})
	out := MaskSecret(in)
	assertNoValue(t, out)
	want := map[string]any{"password": SecretValueMask, "token": SecretValueMask}
	if diff := cmp.Diff(want, out.Object["data"]); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if _, ok := out.Object["stringData"]; ok {
		t.Error("stringData is left")
	}
	if in.Object["stringData"] == nil {
		t.Error("MaskSecret changed its input")
	}
}

func TestMaskSecretLeavesOtherKindsAlone(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"a": "b"}}}
	if got := MaskSecret(cm); got != cm {
		t.Error("a ConfigMap was copied or changed")
	}
	if MaskSecret(nil) != nil {
		t.Error("nil did not stay nil")
	}
}

func TestMaskSecretPairShowsWhichKeysChanged(t *testing.T) {
	before := secret(map[string]any{"same": b64("x"), "changed": b64(plantedValue), "removed": b64("r")}, nil)
	after := secret(map[string]any{"same": b64("x"), "added": b64("a")}, map[string]any{"changed": "new-" + plantedValue})
	b, a := MaskSecretPair(before, after)
	assertNoValue(t, b)
	assertNoValue(t, a)
	wantBefore := map[string]any{"same": SecretValueMask, "changed": SecretValueBefore, "removed": SecretValueMask}
	wantAfter := map[string]any{"same": SecretValueMask, "changed": SecretValueAfter, "added": SecretValueMask}
	if diff := cmp.Diff(wantBefore, b.Object["data"]); diff != "" {
		t.Errorf("before (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantAfter, a.Object["data"]); diff != "" {
		t.Errorf("after (-want +got):\n%s", diff)
	}
}

func TestMaskSecretPairStringDataEqualToDataIsUnchanged(t *testing.T) {
	b, a := MaskSecretPair(secret(map[string]any{"k": b64("v")}, nil), secret(nil, map[string]any{"k": "v"}))
	if !cmp.Equal(b.Object["data"], a.Object["data"]) {
		t.Errorf("the same value written as data and as stringData shows as changed: %v vs %v", b.Object["data"], a.Object["data"])
	}
}

func TestMaskSecretPairOneSide(t *testing.T) {
	b, a := MaskSecretPair(nil, secret(map[string]any{"k": b64(plantedValue)}, nil))
	if b != nil {
		t.Error("nil before became an object")
	}
	assertNoValue(t, a)
}

func TestAddSecretsMasksValuesOfAnyType(t *testing.T) {
	r := New()
	r.AddSecrets(secret(nil, map[string]any{
		"nested": map[string]any{"inner": plantedValue, "list": []any{"listed-value-9k"}},
		"pin":    int64(7283319),
		"ratio":  float64(0.125),
		"flag":   true,
	}))
	msg := `.stringData.nested: expected string, got map[string]interface {}{"inner":"` + plantedValue +
		`","list":["listed-value-9k"]}; .stringData.pin: got 7283319; ratio 0.125; flag true`
	got := r.String(msg)
	for _, leaked := range []string{plantedValue, "listed-value-9k", "7283319", "0.125"} {
		if strings.Contains(got, leaked) {
			t.Errorf("%q leaks: %s", leaked, got)
		}
	}
	if !strings.Contains(got, "flag true") {
		t.Errorf("booleans are not secrets and must not blank words: %s", got)
	}
}
