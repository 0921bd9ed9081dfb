package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

// encryptedFleet is a cluster whose Stack "secrets" decrypts a Secret
// encrypted by sops for the test-only age key of internal/decrypt.
func encryptedFleet(t *testing.T) map[string]string {
	t.Helper()
	enc, err := os.ReadFile(filepath.Join("..", "decrypt", "testdata", "secret.sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"clusters/prod/kustomization.yaml": "resources: [secrets.yaml]\n",
		"clusters/prod/secrets.yaml": "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata: {name: secrets, namespace: flotilla-system}\n" +
			"spec:\n  sourceRef: {kind: GitRepository, name: fleet}\n  path: secrets\n  prune: true\n  decryption: {provider: sops, secretRef: {name: sops-keys}}\n",
		"secrets/kustomization.yaml": "resources: [secret.sops.yaml]\n",
		"secrets/secret.sops.yaml":   string(enc),
	}
}

// planEncrypted plans a fleet without the Stack against the encrypted one.
func planEncrypted(t *testing.T, keys *decrypt.Keys) *Result {
	t.Helper()
	head := encryptedFleet(t)
	base := with(head, map[string]string{"clusters/prod/kustomization.yaml": "resources: []\n"})
	o := DefaultOptions(snapshotFiles(base), snapshotFiles(head))
	o.TempDir, o.Decryption = t.TempDir(), keys
	res, err := Plan(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func stackOf(t *testing.T, res *Result, name string) StackPlan {
	t.Helper()
	for _, s := range res.Clusters[0].Stacks {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no Stack %s in %+v", name, res.Clusters[0].Stacks)
	return StackPlan{}
}

func TestPlanOfEncryptedFilesWithoutTheKeys(t *testing.T) {
	res := planEncrypted(t, nil)
	s := stackOf(t, res, "secrets")
	if s.Status != StackCannotPlan || !strings.Contains(s.Reason, "--decryption-keys") {
		t.Errorf("secrets = %s (%s), want cannot-plan asking for --decryption-keys", s.Status, s.Reason)
	}
	if res.Clusters[0].Status == ClusterFailed || len(res.Failures()) != 0 {
		t.Errorf("failures %+v: keys held in the cluster are no sign it would fail", res.Failures())
	}
}

func TestPlanOfEncryptedFilesWithOtherKeys(t *testing.T) {
	// A new age identity: not the fixture's recipient.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := decrypt.ParseKeys(map[string][]byte{"other.agekey": []byte(id.String() + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	res := planEncrypted(t, other)
	s := stackOf(t, res, "secrets")
	if s.Status != StackFailed || res.Clusters[0].Status != ClusterFailed {
		t.Errorf("secrets = %s, cluster %s: keys given that do not fit would fail in the cluster too", s.Status, res.Clusters[0].Status)
	}
}

func TestPlanOfEncryptedFilesWithTheKeys(t *testing.T) {
	identity, err := os.ReadFile(filepath.Join("..", "decrypt", "testdata", "test-only.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := decrypt.ParseKeys(map[string][]byte{"test.agekey": identity})
	if err != nil {
		t.Fatal(err)
	}
	res := planEncrypted(t, keys)
	s := stackOf(t, res, "secrets")
	if s.Status != StackAdded || len(s.Added) != 1 || s.Added[0].String() != "Secret default/db-credentials" {
		t.Errorf("secrets = %s %+v, want the decrypted Secret added", s.Status, s.Added)
	}
	assertNoSecret(t, outputs(t, res), "fixture-password-not-secret")
}
