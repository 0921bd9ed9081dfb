package setters_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/image/setters"
)

// FuzzParseMarker checks that the marker parser never panics and that what
// it accepts names a policy and a known field.
func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{
		` {"$imagepolicy": "flux-system:podinfo"}`, `{"$imagepolicy": "a:b:tag"}`, `{"$imagepolicy": "a:b:digest"}`,
		`{"$imagepolicy": "a"}`, `{"$imagepolicy": ""}`, `{"$imagepolicy": "a:b:c:d"}`, `{"$imagepolicy": "\"x"}`, `plain`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, comment string) {
		m, err := setters.ParseMarker(comment)
		if err != nil {
			return
		}
		if m.Namespace == "" || m.Name == "" || strings.Contains(m.Policy(), "\"") {
			t.Fatalf("accepted %q as %+v", comment, m)
		}
		switch m.Field {
		case setters.FieldImage, setters.FieldTag, setters.FieldName, setters.FieldDigest:
		default:
			t.Fatalf("accepted field %q", m.Field)
		}
	})
}

// FuzzSetFile checks that the setter never panics, never changes a byte
// outside the values it reports, and is idempotent.
func FuzzSetFile(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.in.yaml")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: 'x'' # {\"$imagepolicy\": \"apps:nginx\"}\n"))
	f.Add([]byte("- \"x\\\" # {\"$imagepolicy\": \"apps:nginx\"}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, changes, warnings := setters.SetFile("f.yaml", in, testPolicies)
		assertOnlyValuesChanged(t, in, out, changes)
		for _, w := range warnings {
			if w.Line < 1 || w.File != "f.yaml" {
				t.Fatalf("warning without a place: %+v", w)
			}
		}
		again, more, _ := setters.SetFile("f.yaml", out, testPolicies)
		if len(more) != 0 || string(again) != string(out) {
			t.Fatalf("not idempotent: %d more changes on\n%q", len(more), out)
		}
	})
}
