package redact

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Masks that stand for a Secret's values in build output, diffs and plans.
// Equal values are masked alike and different ones differently, so a diff
// of two masked Secrets shows which keys changed and nothing else.
const (
	// SecretValueMask stands for a value, or for a value equal on both
	// sides of a comparison.
	SecretValueMask = "<masked>"
	// SecretValueBefore and SecretValueAfter stand for a value that differs
	// between the two sides of a comparison.
	SecretValueBefore = "<masked: changed, before>"
	SecretValueAfter  = "<masked: changed, after>"
)

// lastAppliedAnnotation holds kubectl's copy of the whole object, values
// included.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// IsSecret says whether u is a core/v1 Secret.
func IsSecret(u *unstructured.Unstructured) bool {
	return u != nil && u.GetKind() == "Secret" && u.GroupVersionKind().Group == ""
}

// MaskSecret returns a copy of u with every value of a Secret masked: the
// keys of data and stringData together under data (as the API server stores
// them), each value SecretValueMask, and no last-applied annotation. Any
// other object comes back as it is (not copied); so does nil.
func MaskSecret(u *unstructured.Unstructured) *unstructured.Unstructured {
	if !IsSecret(u) {
		return u
	}
	out := u.DeepCopy()
	values := secretValues(u)
	masked := make(map[string]any, len(values))
	for k := range values {
		masked[k] = SecretValueMask
	}
	setMaskedData(out, masked)
	return out
}

// MaskSecretPair masks two versions of one Secret for a comparison: a key
// whose value is the same on both sides is SecretValueMask on both, a
// changed value is SecretValueBefore and SecretValueAfter, and a key on one
// side only keeps its mask there. Either side may be nil (created or
// deleted). Objects that are not Secrets come back as they are.
func MaskSecretPair(before, after *unstructured.Unstructured) (*unstructured.Unstructured, *unstructured.Unstructured) {
	if !IsSecret(before) && !IsSecret(after) {
		return before, after
	}
	if before == nil || after == nil {
		return MaskSecret(before), MaskSecret(after)
	}
	bv, av := secretValues(before), secretValues(after)
	bm, am := make(map[string]any, len(bv)), make(map[string]any, len(av))
	for k, b := range bv {
		bm[k] = SecretValueMask
		if a, ok := av[k]; ok && a != b {
			bm[k] = SecretValueBefore
		}
	}
	for k, a := range av {
		am[k] = SecretValueMask
		if b, ok := bv[k]; ok && a != b {
			am[k] = SecretValueAfter
		}
	}
	b, a := before.DeepCopy(), after.DeepCopy()
	setMaskedData(b, bm)
	setMaskedData(a, am)
	return b, a
}

// secretValues are the decoded values of data (base64) and stringData
// (which wins, as on the API server). A data value that is not valid base64
// is compared as written.
func secretValues(u *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	data, _, _ := unstructured.NestedMap(u.Object, "data")
	for k, v := range data {
		s, _ := v.(string)
		if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
			s = string(dec)
		}
		out[k] = s
	}
	str, _, _ := unstructured.NestedMap(u.Object, "stringData")
	for k, v := range str {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

func setMaskedData(u *unstructured.Unstructured, masked map[string]any) {
	unstructured.RemoveNestedField(u.Object, "stringData")
	if len(masked) == 0 {
		unstructured.RemoveNestedField(u.Object, "data")
	} else {
		u.Object["data"] = masked
	}
	if ann := u.GetAnnotations(); ann != nil {
		if _, ok := ann[lastAppliedAnnotation]; ok {
			delete(ann, lastAppliedAnnotation)
			if len(ann) == 0 {
				ann = nil
			}
			u.SetAnnotations(ann)
		}
	}
}

// AddSecrets registers the values of every Secret among objs (decoded data
// and stringData), so that messages quoting them are masked: the values a
// render decrypted are known nowhere else.
func (r *Redactor) AddSecrets(objs ...*unstructured.Unstructured) {
	for _, u := range objs {
		if !IsSecret(u) {
			continue
		}
		for _, v := range secretValues(u) {
			r.Add(v)
		}
		// A value that is not a string (a map, a list, a number) is refused
		// by the API server, whose error quotes it: its leaves are secret too.
		for _, field := range []string{"data", "stringData"} {
			m, _, _ := unstructured.NestedFieldNoCopy(u.Object, field)
			if values, ok := m.(map[string]any); ok {
				for _, v := range values {
					r.Add(leaves(v)...)
				}
			}
		}
	}
}

// leaves are the scalar values inside v as text, maps and lists walked.
// Booleans and nulls are left out: they are not secrets, and masking
// "true" would blank ordinary words.
func leaves(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, leaves(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, leaves(e)...)
		}
		return out
	case string:
		return []string{v}
	case int64:
		return []string{strconv.FormatInt(v, 10)}
	case float64:
		return []string{strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatFloat(v, 'f', -1, 64)}
	case int, int32, uint64:
		return []string{fmt.Sprint(v)}
	}
	return nil
}
