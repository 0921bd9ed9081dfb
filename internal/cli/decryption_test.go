package cli

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
	"github.com/flotilla-io/flotilla/test/sopstest"
)

// markerEncrypted is a Secret value kept SOPS-encrypted in the repository.
const markerEncrypted = "planted-marker-sops-encrypted"

func TestLoadDecryptionKeys(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	identity := id.String()
	dir := t.TempDir()
	manifest := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\nstringData:\n  identity.agekey: " + identity + "\n"
	encoded := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\ndata:\n  identity.agekey: " + base64.StdEncoding.EncodeToString([]byte(identity)) + "\n"
	writeFiles(t, dir, map[string]string{
		"key.agekey": identity, "secret.yaml": manifest, "encoded.yaml": encoded, "keys/one.agekey": identity, "keys/README": "notes",
		"keys.txt": identity, "empty.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: none\n",
	})
	cases := []struct {
		file    string
		wantErr string
	}{
		{file: "key.agekey"},
		{file: "secret.yaml"},
		{file: "encoded.yaml"},
		{file: "keys"},
		{file: "keys.txt", wantErr: "ends in neither .agekey nor .asc"},
		{file: "empty.yaml", wantErr: "holds no age or PGP key"},
		{file: "missing", wantErr: "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			keys, err := loadDecryptionKeys(filepath.Join(dir, tc.file))
			if tc.wantErr == "" {
				if err != nil || keys.Empty() {
					t.Fatalf("keys %v, err %v", keys, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("err = %v, want one naming %s and saying %q", err, tc.file, tc.wantErr)
			}
			if strings.Contains(err.Error(), identity) {
				t.Error("the error quotes the key")
			}
		})
	}
}

// encryptedRepo is a repository holding a ConfigMap and a Secret
// encrypted for key by the real sops.
func encryptedRepo(t *testing.T, key sopstest.AgeKey, value string) string {
	t.Helper()
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: credentials\nstringData:\n  password: " + value + "\n  user: admin\n"
	return writeRepo(t, map[string]string{
		"settings.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n",
		"credentials.yaml": string(sopstest.Encrypt(t, "credentials.yaml", []byte(secret), sopstest.Recipients{Age: []string{key.Recipient}, EncryptedRegex: "^(data|stringData)$"})),
	})
}

func keyFile(t *testing.T, key sopstest.AgeKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "identity.agekey")
	if err := os.WriteFile(p, []byte(key.Identity), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildDecryptsWithKeysAndMasks(t *testing.T) {
	sopstest.Require(t)
	key := sopstest.NewAgeKey(t)
	repo := encryptedRepo(t, key, markerEncrypted)

	var out bytes.Buffer
	o := BuildOptions{Path: repo, Root: repo, Output: OutputYAML, DecryptionKeys: keyFile(t, key)}
	if err := o.Run(t.Context(), streams(&out)); err != nil {
		t.Fatal(err)
	}
	wantLines(t, out.String(), "kind: Secret", "  password: <masked>")
	if strings.Contains(out.String(), "ENC[") || strings.Contains(out.String(), "sops:") {
		t.Errorf("the output holds ciphertext or SOPS metadata:\n%s", out.String())
	}
	assertNoMarker(t, out.String(), markerEncrypted)

	out.Reset()
	o.DecryptionKeys = ""
	err := o.Run(t.Context(), streams(&out))
	if !errors.Is(err, decrypt.ErrNotConfigured) || !strings.Contains(err.Error(), "credentials.yaml") || !strings.Contains(err.Error(), "--decryption-keys") {
		t.Errorf("without keys: err = %v, want one naming the file and --decryption-keys", err)
	}
	assertNoMarker(t, err.Error()+out.String(), markerEncrypted)
}

func TestDiffDecryptsAndMasksSecret(t *testing.T) {
	sopstest.Require(t)
	f := newDiffFixture(t, "sops")
	key := sopstest.NewAgeKey(t)
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "sops-age"}, Data: map[string][]byte{"identity.agekey": []byte(key.Identity)}}
	if err := env.Client.Create(t.Context(), keys); err != nil {
		t.Fatal(err)
	}
	var st v1alpha1.Stack
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "apps"}, &st); err != nil {
		t.Fatal(err)
	}
	st.Spec.Decryption = &v1alpha1.Decryption{Provider: v1alpha1.DecryptionProviderSOPS, SecretRef: &v1alpha1.LocalObjectReference{Name: "sops-age"}}
	if err := env.Client.Update(t.Context(), &st); err != nil {
		t.Fatal(err)
	}
	f.applyAsAgent(t, encryptedRepo(t, key, markerEncrypted))
	var live corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: f.target, Name: "credentials"}, &live); err != nil || string(live.Data["password"]) != markerEncrypted {
		t.Fatalf("the agent's render did not apply the decrypted value: %v", err)
	}

	const rotated = "planted-marker-sops-rotated"
	repo := encryptedRepo(t, key, rotated)
	for name, keysFile := range map[string]string{"the Stack's Secret": "", "--decryption-keys": keyFile(t, key)} {
		t.Run(name, func(t *testing.T) {
			o := DiffOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: f.ns}, Stack: "apps", Path: repo, DecryptionKeys: keysFile}
			var out bytes.Buffer
			err := o.Run(t.Context(), streams(&out))
			if code, _ := ExitCode(err); code != ExitDiffChanges {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
			}
			wantLines(t, out.String(),
				"-  password: '<masked: changed, before>'",
				"+  password: '<masked: changed, after>'",
				"   user: <masked>",
				"0 to create, 1 to change, 0 to prune")
			assertNoMarker(t, out.String(), markerEncrypted, rotated)
		})
	}
}

func TestPlanDecryptsWithKeys(t *testing.T) {
	sopstest.Require(t)
	key := sopstest.NewAgeKey(t)
	const overlay = "apps/overlays/staging/kustomization.yaml"
	const stack = "clusters/staging/apps.yaml"
	secret := func(value string) string {
		plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: hello\nstringData:\n  password: " + value + "\n"
		return string(sopstest.Encrypt(t, "secret.yaml", []byte(plain), sopstest.Recipients{Age: []string{key.Recipient}, EncryptedRegex: "^(data|stringData)$"}))
	}
	files, err := fleettest.CopyDir(filepath.Join("..", "..", "examples", "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	files["apps/overlays/staging/secret.yaml"] = secret(markerEncrypted)
	files[overlay] = replaced(t, files, overlay, "resources:\n", "resources:\n  - secret.yaml\n")
	files[stack] = replaced(t, files, stack, "  prune: true\n", "  prune: true\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n")
	dir := t.TempDir()
	if err := fleettest.InitRepo(dir, files); err != nil {
		t.Fatal(err)
	}
	const rotated = "planted-marker-plan-rotated"
	if err := fleettest.Commit(dir, map[string]string{"apps/overlays/staging/secret.yaml": secret(rotated)}, "rotate"); err != nil {
		t.Fatal(err)
	}
	out, code, err := runPlan(t, PlanOptions{Repo: dir, Base: "HEAD~1", Head: "HEAD", Output: planOutputText, Source: "flotilla-system/fleet", DecryptionKeys: keyFile(t, key)})
	if code != ExitPlanChanges {
		t.Fatalf("exit code %d (%v):\n%s", code, err, out)
	}
	if !strings.Contains(out, "Secret") || !strings.Contains(out, "password") {
		t.Errorf("the plan does not say the Secret's password changed:\n%s", out)
	}
	assertNoMarker(t, out, markerEncrypted, rotated)

	// Without the keys the Stack cannot be planned; that is no failure.
	out, code, err = runPlan(t, PlanOptions{Repo: dir, Base: "HEAD~1", Head: "HEAD", Output: planOutputText, Source: "flotilla-system/fleet"})
	if code == ExitError || !strings.Contains(out, "--decryption-keys") {
		t.Errorf("without keys: exit code %d (%v), want a plan saying to give --decryption-keys:\n%s", code, err, out)
	}
	assertNoMarker(t, out, markerEncrypted, rotated)
}
