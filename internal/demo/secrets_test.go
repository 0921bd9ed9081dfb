package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/render"
)

func demoKeys(t *testing.T) *decrypt.Keys {
	t.Helper()
	keys, err := decrypt.ParseKeys(map[string][]byte{"demo.agekey": demoAgeKey})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// The example fleet's encrypted Secret decrypts with the demo's key, to the
// password the demo checks; the rotated copy to another one.
func TestExampleSecretsDecryptWithTheDemoKey(t *testing.T) {
	dir := t.TempDir()
	if err := copyFleet(dir); err != nil {
		t.Fatal(err)
	}
	objs, err := render.Build(context.Background(), render.Options{Root: dir, Path: "apps/secrets", Decryption: demoKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != secretsName {
		t.Fatalf("apps/secrets renders %d objects, want the Secret %s", len(objs), secretsName)
	}
	if got, _, _ := unstructured.NestedString(objs[0].Object, "stringData", "password"); got != secretsPlaintext {
		t.Errorf("the password decrypts to something else than the demo checks (%d bytes)", len(got))
	}
	rotated, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(secretsRotated)))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := demoKeys(t).Decrypt(rotated, decrypt.YAML)
	if err != nil || strings.Contains(string(plain), secretsPlaintext) || !strings.Contains(string(plain), "password: ") {
		t.Errorf("the rotated copy must decrypt to another password: %v", err)
	}
	if _, err := render.Build(context.Background(), render.Options{Root: dir, Path: "apps/secrets"}); err == nil {
		t.Error("without keys the encrypted Secret rendered")
	}
}

// The demo lists the Stack "secrets" for staging only, and the Stack
// decrypts with the Secret the demo creates.
func TestWithSecretsStackListsTheStackForStaging(t *testing.T) {
	dir := t.TempDir()
	if err := copyFleet(dir); err != nil {
		t.Fatal(err)
	}
	if err := withSecretsStack(DefaultClusters, func(string) error { return nil })(dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range DefaultClusters {
		objs, err := render.Build(context.Background(), render.Options{Root: dir, Path: "clusters/" + c})
		if err != nil {
			t.Fatal(err)
		}
		var secrets *unstructured.Unstructured
		for _, o := range objs {
			if o.GetKind() == "Stack" && o.GetName() == "secrets" {
				secrets = o
			}
		}
		if (secrets != nil) != (c == secretsCluster) {
			t.Errorf("cluster %s: Stack secrets listed = %t", c, secrets != nil)
			continue
		}
		if secrets != nil {
			ref, _, _ := unstructured.NestedString(secrets.Object, "spec", "decryption", "secretRef", "name")
			if ref != secretsKeySecret {
				t.Errorf("the Stack decrypts with %q, the demo creates %q", ref, secretsKeySecret)
			}
		}
	}
}
