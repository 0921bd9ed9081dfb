package setters

import (
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// readBack decodes `k: <text>` as Kubernetes does (sigs.k8s.io/yaml).
func readBack(t *testing.T, text string) (any, error) {
	t.Helper()
	var m map[string]any
	err := yaml.Unmarshal([]byte("k: "+text+"\n"), &m)
	return m["k"], err
}

// Tags are [A-Za-z0-9_][A-Za-z0-9_.-]*; some of them read as numbers in
// YAML 1.1, which Kubernetes' parser follows. Each must be written so that
// it reads back as the same string.
func TestRenderedValuesReadBackAsTheSameString(t *testing.T) {
	values := []string{
		"0b101", "0b1_0", "0x1F", "0x_1F", "0o17", "0777", "1_000", "1e5", "1.10", "10",
		"1:30", "190:20:30", "yes", "No", "ON", "null", "NULL", "true", "y", "n",
		".inf", ".NaN", "v1.2.3", "latest", "sha256:ab", "r/app:1@sha256:ab", "main-abc123-1700000000",
		"_tag", "a b", "it's", `a"b`, "a#b", "a: b", "a #b",
	}
	for _, v := range values {
		for _, style := range []byte{0, '\'', '"'} {
			text := render(v, style)
			got, err := readBack(t, text)
			if err != nil || got != v {
				t.Errorf("render(%q, %q) = %s reads back as %#v (%v)", v, style, text, got, err)
			}
		}
	}
}

// FuzzRenderReadsBack checks that whatever value a policy yields, the
// written scalar reads back as that string.
func FuzzRenderReadsBack(f *testing.F) {
	for _, s := range []string{"0b101", "1.10", "yes", "r/app:1", "a: b", "it's", `a\"b`, "~", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r >= 0xfffe {
				return // a policy never yields control characters or line separators
			}
		}
		text := render(v, 0)
		got, err := readBack(t, text)
		if err != nil || got != v {
			t.Fatalf("render(%q) = %s reads back as %#v (%v)", v, text, got, err)
		}
	})
}
