package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

func TestSplitDocuments(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "one", in: "a: 1\n", want: []string{"a: 1\n"}},
		{name: "leading-separator", in: "---\na: 1\n---\nb: 2\n", want: []string{"a: 1\n", "b: 2\n"}},
		{name: "separator-with-comment-and-spaces", in: "a: 1\n--- # next\nb: 2\n---  \nc: 3\n", want: []string{"a: 1\n", "b: 2\n", "c: 3\n"}},
		{name: "comment-only-documents-dropped", in: "# header\n---\na: 1\n---\n# only a comment\n", want: []string{"a: 1\n"}},
		{name: "crlf", in: "a: 1\r\n---\r\nb: 2\r\n", want: []string{"a: 1\r\n", "b: 2\r\n"}},
		{name: "dashes-inside-a-value-are-not-a-separator", in: "a: |\n  ---\n  x\n", want: []string{"a: |\n  ---\n  x\n"}},
		{name: "empty", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range splitDocuments([]byte(tt.in)) {
				got = append(got, string(d))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// sopsDoc is an object with SOPS metadata whose mac is mac ("" for none).
func sopsDoc(mac string) *yaml.RNode {
	s := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nsops:\n  version: 3.9.0\n"
	if mac != "" {
		s += "  mac: " + mac + "\n"
	}
	return yaml.MustParse(s)
}

func TestIsSopsObject(t *testing.T) {
	tests := []struct {
		name string
		n    *yaml.RNode
		want bool
	}{
		{"metadata-with-mac", sopsDoc("ENC[abc]"), true},
		{"metadata-without-mac", sopsDoc(""), false},
		{"sops-field-that-is-not-a-mapping", yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\nsops: yes\n"), false},
		{"plain-object", yaml.MustParse(configMap), false},
		{"sops-below-the-top-level", yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  sops:\n    mac: x\n"), false},
	}
	for _, tt := range tests {
		if got := isSopsObject(tt.n); got != tt.want {
			t.Errorf("%s: isSopsObject = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestSameMAC(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*yaml.RNode
		want  bool
	}{
		{"one-document", []*yaml.RNode{sopsDoc("m1")}, true},
		{"file-encrypted-as-a-whole", []*yaml.RNode{sopsDoc("m1"), sopsDoc("m1"), sopsDoc("m1")}, true},
		{"documents-encrypted-one-by-one", []*yaml.RNode{sopsDoc("m1"), sopsDoc("m2")}, false},
		{"a-plain-document-among-them", []*yaml.RNode{sopsDoc("m1"), yaml.MustParse(configMap)}, false},
	}
	for _, tt := range tests {
		if got := sameMAC(tt.nodes); got != tt.want {
			t.Errorf("%s: sameMAC = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestDecryptionDisabled(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        bool
	}{
		{"flotilla", map[string]string{DecryptAnnotation: "Disabled"}, true},
		{"flux", map[string]string{FluxDecryptAnnotation: "Disabled"}, true},
		{"any-case", map[string]string{DecryptAnnotation: "disabled"}, true},
		{"other-value", map[string]string{DecryptAnnotation: "false"}, false},
		{"substitution-annotation-is-not-it", map[string]string{SubstituteDisabledAnnotation: "disabled"}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		if got := decryptionDisabled(tt.annotations); got != tt.want {
			t.Errorf("%s: decryptionDisabled = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestDecryptDataWithoutDecryption(t *testing.T) {
	g := &guard{}
	_, err := g.decryptData("secrets/db.yaml", "document 2", []byte("ciphertext"), decrypt.YAML)
	var re *Error
	if !errors.As(err, &re) || re.Path != "secrets/db.yaml" {
		t.Fatalf("got %v, want an *Error at secrets/db.yaml", err)
	}
	if !errors.Is(err, ErrDecryption) || !errors.Is(err, decrypt.ErrNotConfigured) {
		t.Errorf("got %v, want ErrDecryption and decrypt.ErrNotConfigured", err)
	}
	for _, want := range []string{"secrets/db.yaml (document 2) is SOPS-encrypted", "spec.decryption", DecryptAnnotation + ": " + DecryptDisabledValue} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestDecryptResourcesLeavesPlainFilesAlone(t *testing.T) {
	g := &guard{}
	for name, data := range map[string]string{
		"no-sops-at-all":            configMap,
		"sops-only-in-a-value":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sops-notes\n",
		"broken-yaml-left-to-parse": "sops: [\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := g.decryptResources("f.yaml", []byte(data))
			if err != nil || string(out) != data {
				t.Errorf("got %q, %v; want the file unchanged", out, err)
			}
		})
	}
}
