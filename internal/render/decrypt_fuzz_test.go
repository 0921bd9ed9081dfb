package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

// fuzzPlaintext is the password of the committed fixture
// ../decrypt/testdata/secret.sops.yaml, encrypted by the real sops for the
// test-only key beside it.
const fuzzPlaintext = "fixture-password-not-secret"

// FuzzDecryptResources renders any resource file, and any Secret entry,
// with the test-only key: the render never panics, and its error never
// holds the fixture's plaintext, which only a successful decryption can
// produce. Seeds: the fixture whole, tampered, split and embedded in a
// Secret's data.
func FuzzDecryptResources(f *testing.F) {
	enc, err := os.ReadFile(filepath.Join("..", "decrypt", "testdata", "secret.sops.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	identity, err := os.ReadFile(filepath.Join("..", "decrypt", "testdata", "test-only.agekey"))
	if err != nil {
		f.Fatal(err)
	}
	keys, err := decrypt.ParseKeys(map[string][]byte{"test.agekey": identity})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(enc))
	f.Add(strings.Replace(string(enc), "db-credentials", "other", 1))
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n" + string(enc))
	f.Add(string(enc) + "---\n" + string(enc))
	f.Add("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  config.yaml: |\n" + indent(string(enc), "    "))
	f.Add("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nsops:\n  mac: x\n")
	f.Fuzz(func(t *testing.T, file string) {
		root := t.TempDir()
		dir := filepath.Join(root, "app")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "secret.yaml"), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Build(context.Background(), Options{Root: root, Path: "app", Decryption: keys})
		if err != nil && strings.Contains(err.Error(), fuzzPlaintext) && !strings.Contains(file, fuzzPlaintext) {
			t.Fatalf("the error holds the decrypted value: %v", err)
		}
	})
}
