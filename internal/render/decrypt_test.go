package render

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/test/sopstest"
)

// marker is planted in every encrypted value; no error may hold it.
const marker = "canary-d41c-render-plaintext"

const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
stringData:
  password: ` + marker + `
  url: postgres://${DB_HOST}/app
`

// sopsFixture encrypts files with the real sops for age key k.
type sopsFixture struct {
	t *testing.T
	k sopstest.AgeKey
}

func newSopsFixture(t *testing.T) sopsFixture {
	t.Helper()
	sopstest.Require(t)
	return sopsFixture{t: t, k: sopstest.NewAgeKey(t)}
}

func (f sopsFixture) enc(name, plaintext string) string {
	return string(sopstest.Encrypt(f.t, name, []byte(plaintext), sopstest.Recipients{Age: []string{f.k.Recipient}, EncryptedRegex: "^(data|stringData)$"}))
}

func (f sopsFixture) encAll(name, plaintext string) string {
	return string(sopstest.Encrypt(f.t, name, []byte(plaintext), sopstest.ToAge(f.k)))
}

func (f sopsFixture) keys() *decrypt.Keys {
	k, err := decrypt.ParseKeys(map[string][]byte{"identity.agekey": []byte(f.k.Identity)})
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func secretValue(t *testing.T, objs []*unstructured.Unstructured, name, key string) string {
	t.Helper()
	s := find(objs, "Secret", name)
	if s == nil {
		t.Fatalf("no Secret %s in %s", name, toYAML(t, objs))
	}
	if v, ok, _ := unstructured.NestedString(s.Object, "stringData", key); ok {
		return v
	}
	v, _, _ := unstructured.NestedString(s.Object, "data", key)
	d, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatalf("Secret %s data %s: %v", name, key, err)
	}
	return string(d)
}

func TestDecryptEncryptedObjects(t *testing.T) {
	f := newSopsFixture(t)
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n"
	multi := f.encAll("multi.yaml", secretYAML+"---\n"+strings.Replace(secretYAML, "name: db", "name: db2", 1))
	cases := []struct {
		name   string
		files  map[string]string
		secret string
	}{
		{name: "one encrypted Secret, values only", secret: "db", files: map[string]string{
			"kustomization.yaml": "resources: [secret.yaml]\n", "secret.yaml": f.enc("secret.yaml", secretYAML)}},
		{name: "a directory without kustomization", secret: "db", files: map[string]string{
			"secret.yaml": f.encAll("secret.yaml", secretYAML), "cm.yaml": cm}},
		{name: "encrypted as JSON", secret: "db", files: map[string]string{
			"kustomization.yaml": "resources: [secret.json]\n",
			"secret.json":        f.enc("secret.json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"default"},"stringData":{"password":"`+marker+`","url":"postgres://${DB_HOST}/app"}}`)}},
		{name: "a multi-document file sops encrypted whole", secret: "db2", files: map[string]string{
			"kustomization.yaml": "resources: [multi.yaml]\n", "multi.yaml": multi}},
		{name: "documents encrypted one by one beside a plain one", secret: "db", files: map[string]string{
			"kustomization.yaml": "resources: [mixed.yaml]\n",
			"mixed.yaml":         cm + "---\n" + f.enc("secret.yaml", secretYAML)}},
		{name: "inside a Component", secret: "db", files: map[string]string{
			"kustomization.yaml":              "resources: [cm.yaml]\ncomponents: [../component]\n",
			"cm.yaml":                         cm,
			"../component/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [secret.yaml]\n",
			"../component/secret.yaml":        f.enc("secret.yaml", secretYAML)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range tc.files {
				files["app/"+strings.TrimPrefix(k, "../")] = v
				if strings.HasPrefix(k, "../") {
					delete(files, "app/"+strings.TrimPrefix(k, "../"))
					files[strings.TrimPrefix(k, "../")] = v
				}
			}
			root := writeTree(t, files)
			objs, err := buildBoth(t, Options{Root: root, Path: "app", Decryption: f.keys(), Substitute: map[string]string{"DB_HOST": "db.internal"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := secretValue(t, objs, tc.secret, "password"); got != marker {
				t.Errorf("password = %q, want the decrypted value", got)
			}
			if got := secretValue(t, objs, tc.secret, "url"); got != "postgres://db.internal/app" {
				t.Errorf("url = %q: decryption must come before substitution", got)
			}
			for _, o := range objs {
				if _, ok := o.Object["sops"]; ok {
					t.Errorf("%s %s still carries sops metadata", o.GetKind(), o.GetName())
				}
			}
		})
	}
}

func TestDecryptSecretDataAndGenerators(t *testing.T) {
	f := newSopsFixture(t)
	envFile := f.encAll("app.env", "TOKEN="+marker+"\n")
	confFile := f.encAll("config.yaml", "password: "+marker+"\n")
	embedded := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: embedded\ndata:\n  config.yaml: " + base64.StdEncoding.EncodeToString([]byte(confFile)) +
		"\nstringData:\n  app.env: |\n" + indent(envFile, "    ")
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml": `resources: [embedded.yaml]
components: [../comp]
secretGenerator:
- name: from-env
  envs: [app.env]
- name: from-file
  files: [conf.yaml=config.yaml]
generatorOptions:
  disableNameSuffixHash: true
`,
		"app/embedded.yaml":       embedded,
		"app/app.env":             envFile,
		"app/config.yaml":         confFile,
		"comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nsecretGenerator:\n- name: from-component\n  envs: [comp.env]\n  options:\n    disableNameSuffixHash: true\n",
		"comp/comp.env":           envFile,
	})
	objs, err := buildBoth(t, Options{Root: root, Path: "app", Decryption: f.keys()})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ secret, key, want string }{
		{"embedded", "config.yaml", "password: " + marker},
		{"embedded", "app.env", "TOKEN=" + marker},
		{"from-env", "TOKEN", marker},
		{"from-file", "conf.yaml", "password: " + marker},
		{"from-component", "TOKEN", marker},
	}
	for _, c := range checks {
		if got := strings.TrimSpace(secretValue(t, objs, c.secret, c.key)); got != c.want {
			t.Errorf("Secret %s key %s = %q, want %q", c.secret, c.key, got, c.want)
		}
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func TestDecryptOptOut(t *testing.T) {
	f := newSopsFixture(t)
	for _, annotation := range []string{DecryptAnnotation, FluxDecryptAnnotation} {
		t.Run(annotation, func(t *testing.T) {
			plain := strings.Replace(secretYAML, "  namespace: default\n", "  namespace: default\n  annotations:\n    "+annotation+": Disabled\n", 1)
			root := writeTree(t, map[string]string{"app/secret.yaml": f.enc("secret.yaml", plain)})
			objs, err := buildBoth(t, Options{Root: root, Path: "app"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := find(objs, "Secret", "db").Object["sops"]; !ok {
				t.Error("the opted-out object was changed")
			}
		})
	}
}

func TestDecryptFailuresNameTheFile(t *testing.T) {
	f := newSopsFixture(t)
	wrong, err := decrypt.ParseKeys(map[string][]byte{"other.agekey": []byte(sopstest.NewAgeKey(t).Identity)})
	if err != nil {
		t.Fatal(err)
	}
	enc := f.enc("secret.yaml", secretYAML)
	cases := []struct {
		name  string
		files map[string]string
		dec   Decryptor
		want  error
		says  []string
	}{
		{name: "no decryption configured", files: map[string]string{"app/kustomization.yaml": "resources: [secret.yaml]\n", "app/secret.yaml": enc},
			want: decrypt.ErrNotConfigured, says: []string{"app/secret.yaml", "spec.decryption"}},
		{name: "the wrong key", files: map[string]string{"app/kustomization.yaml": "resources: [secret.yaml]\n", "app/secret.yaml": enc}, dec: wrong,
			want: decrypt.ErrNoMatchingKey, says: []string{"app/secret.yaml", "age " + f.k.Recipient}},
		{name: "edited by hand", files: map[string]string{"app/kustomization.yaml": "resources: [secret.yaml]\n",
			"app/secret.yaml": strings.Replace(enc, "namespace: default", "namespace: prod", 1)}, dec: f.keys(),
			want: decrypt.ErrMACMismatch, says: []string{"app/secret.yaml"}},
		{name: "an encrypted env file without keys", files: map[string]string{"app/kustomization.yaml": "secretGenerator:\n- name: s\n  envs: [a.env]\n",
			"app/a.env": f.encAll("a.env", "TOKEN="+marker+"\n")},
			want: decrypt.ErrNotConfigured, says: []string{"app/a.env"}},
		{name: "an encrypted file in a configMapGenerator", files: map[string]string{"app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [a.yaml]\n",
			"app/a.yaml": f.encAll("a.yaml", "token: "+marker+"\n")}, dec: f.keys(),
			want: ErrDecryption, says: []string{"app/a.yaml", "use a secretGenerator"}},
		{name: "an encrypted patch", files: map[string]string{"app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: patch.yaml\n",
			"app/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
			"app/patch.yaml": f.encAll("patch.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  token: "+marker+"\n")}, dec: f.keys(),
			want: ErrDecryption, says: []string{"app/kustomization.yaml", "patch.yaml", "SOPS-encrypted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := buildBoth(t, Options{Root: writeTree(t, tc.files), Path: "app", Decryption: tc.dec})
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrDecryption) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if objs != nil {
				t.Error("objects returned with an error")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			assertNoSecret(t, err.Error(), marker)
		})
	}
}
