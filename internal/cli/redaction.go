package cli

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// maskObject returns u with a Secret's values masked and, when red is not
// nil, every value red knows (values substituted from Secrets) masked in
// every string of the object. Nothing else is rewritten: credentials
// written in a URL of a manifest are in Git in clear and are applied as
// written, so they are shown as written.
func maskObject(u *unstructured.Unstructured, red *redact.Redactor) *unstructured.Unstructured {
	return redactStrings(redact.MaskSecret(u), red)
}

// redactStrings returns a copy of u with every value red knows masked in
// every string; u itself when red or u is nil.
func redactStrings(u *unstructured.Unstructured, red *redact.Redactor) *unstructured.Unstructured {
	if u == nil || red == nil {
		return u
	}
	out := u.DeepCopy()
	out.Object = redactValue(out.Object, red).(map[string]any)
	return out
}

// redactValue masks red's values in every string of v, in place.
func redactValue(v any, red *redact.Redactor) any {
	switch t := v.(type) {
	case string:
		return red.Values(t)
	case map[string]any:
		for k, e := range t {
			t[k] = redactValue(e, red)
		}
	case []any:
		for i, e := range t {
			t[i] = redactValue(e, red)
		}
	}
	return v
}
