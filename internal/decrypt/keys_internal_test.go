package decrypt

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/google/go-cmp/cmp"
)

func TestFormatForPath(t *testing.T) {
	for name, want := range map[string]Format{
		"secret.yaml":       YAML,
		"secret.sops.yml":   YAML,
		"app.json":          JSON,
		"app.sops.env":      Dotenv,
		"settings.ini":      Ini,
		"certificate.pem":   Binary,
		"no-extension":      Binary,
		"dir.yaml/file.bin": Binary,
	} {
		if got := FormatForPath(name); got != want {
			t.Errorf("FormatForPath(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsEncrypted(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		f    Format
		want bool
	}{
		{"a yaml file with a sops mapping", "data: ENC[x]\nsops:\n  version: 3.9.0\n", YAML, true},
		{"a json file with a sops object", `{"data": "ENC[x]", "sops": {"version": "3.9.0"}}`, JSON, true},
		{"a binary file stored as json", `{"data": "ENC[x]", "sops": {"version": "3.9.0"}}`, Binary, true},
		{"sops as a value is not encryption", "note: encrypted with sops\n", YAML, false},
		{"sops as a scalar key is not encryption", "sops: true\n", YAML, false},
		{"sops in the second document only", "kind: ConfigMap\n---\nsops:\n  version: 3\n", YAML, false},
		{"a yaml file that does not parse", "sops: [\n", YAML, false},
		{"a plain file", "kind: ConfigMap\n", YAML, false},
		{"a dotenv file with sops entries", "TOKEN=ENC[x]\nsops_version=3.9.0\n", Dotenv, true},
		{"a dotenv file with indented sops entries", "TOKEN=ENC[x]\n  sops_version=3.9.0\n", Dotenv, true},
		{"a dotenv file mentioning sops in a value", "NOTE=sops_is_used\n", Dotenv, false},
		{"an ini file with a sops section", "[app]\ntoken = ENC[x]\n[sops]\nversion = 3.9.0\n", Ini, true},
		{"an ini file without one", "[app]\nnote = sops\n", Ini, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsEncrypted([]byte(tc.data), tc.f); got != tc.want {
				t.Errorf("IsEncrypted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCommittedFixturesAreSeenAsEncrypted(t *testing.T) {
	for _, name := range []string{"testdata/secret.sops.yaml", "testdata/app.sops.env"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !IsEncrypted(data, FormatForPath(name)) {
			t.Errorf("%s is not seen as encrypted", name)
		}
	}
}

func TestDigest(t *testing.T) {
	id, err := os.ReadFile("testdata/test-only.agekey")
	if err != nil {
		t.Fatal(err)
	}
	parse := func(entries map[string][]byte) string {
		t.Helper()
		k, err := ParseKeys(entries)
		if err != nil {
			t.Fatal(err)
		}
		return k.Digest()
	}
	a := parse(map[string][]byte{"a.agekey": id, "README": []byte("x")})
	if a != parse(map[string][]byte{"README": []byte("x"), "a.agekey": id}) {
		t.Error("the digest depends on the map's order")
	}
	if a == parse(map[string][]byte{"b.agekey": id, "README": []byte("x")}) {
		t.Error("renaming an entry does not change the digest")
	}
	if a == parse(map[string][]byte{"a.agekey": id, "README": []byte("y")}) {
		t.Error("changing an entry does not change the digest")
	}
	// Length-prefixing keeps "ab"+"c" and "a"+"bc" apart.
	if parse(map[string][]byte{"x": []byte("ab"), "y": []byte("c")}) == parse(map[string][]byte{"x": []byte("a"), "y": []byte("bc")}) {
		t.Error("two different Secrets share a digest")
	}
	if strings.Contains(a, string(id)) || len(a) != 64 {
		t.Errorf("digest = %q, want 64 hex characters", a)
	}
}

func TestEmptyAndDescribe(t *testing.T) {
	var none *Keys
	if !none.Empty() || none.describe() != "no keys are configured" {
		t.Errorf("nil keys: Empty %v, describe %q", none.Empty(), none.describe())
	}
	k, err := ParseKeys(map[string][]byte{GCPKMSKey: []byte("{}"), VaultTokenKey: []byte("s.x")})
	if err != nil {
		t.Fatal(err)
	}
	if !k.Empty() {
		t.Error("keys of unsupported types only are not Empty")
	}
	want := "the keys held are 0 age identities and 0 PGP keys, and the entries sops.gcp-kms, sops.vault-token, which this build of Flotilla does not support (use age or PGP)"
	if got := k.describe(); got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
}

func TestKeyErrorNamesTheFilesKeysAndWhatIsHeld(t *testing.T) {
	k, err := ParseKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		md      sops.Metadata
		wantErr error
		want    string
	}{
		{"no keys in the file", sops.Metadata{}, ErrUnsupportedKey,
			"key type not supported by this build: the file is encrypted for no key; the keys held are 0 age identities and 0 PGP keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := k.keyError(tc.md)
			if !errors.Is(err, tc.wantErr) || err.Error() != tc.want {
				t.Errorf("err = %v, want %q wrapping %v", err, tc.want, tc.wantErr)
			}
		})
	}
}

// pgpKey returns an ed25519 PGP entity, armored as its private key (or its
// public key only), protected by passphrase when it is not empty.
func pgpKey(t *testing.T, public bool, passphrase string) []byte {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	e, err := openpgp.NewEntity("Flotilla test", "", "test@flotilla.invalid", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	blockType := openpgp.PrivateKeyType
	if public {
		blockType = openpgp.PublicKeyType
	}
	w, err := armor.Encode(&buf, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case public:
		err = e.Serialize(w)
	case passphrase != "":
		if err = e.EncryptPrivateKeys([]byte(passphrase), cfg); err == nil {
			err = e.SerializePrivateWithoutSigning(w, cfg)
		}
	default:
		err = e.SerializePrivate(w, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseKeysPGP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    []byte
		wantMsg string
	}{
		{"a private key", pgpKey(t, false, ""), ""},
		{"a public key", pgpKey(t, true, ""), "entry ops.asc holds a public PGP key: export the private key"},
		{"a key with a passphrase", pgpKey(t, false, "hunter2"), "entry ops.asc holds a PGP key protected by a passphrase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKeys(map[string][]byte{"ops.asc": tc.data})
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if k.Empty() || len(k.pgp) != 1 {
					t.Errorf("keys = %d PGP, want 1", len(k.pgp))
				}
				return
			}
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want ErrInvalidKey saying %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "BEGIN PGP") {
				t.Errorf("the error quotes the key or its passphrase: %v", err)
			}
		})
	}
}

func TestParseKeysStopsAtTheFirstBrokenEntryInNameOrder(t *testing.T) {
	_, err := ParseKeys(map[string][]byte{"b.agekey": []byte("broken"), "a.asc": []byte("broken")})
	if err == nil || !strings.Contains(err.Error(), "entry a.asc") {
		t.Errorf("err = %v, want the first entry by name, a.asc", err)
	}
}

func TestKeyErrorMessage(t *testing.T) {
	e := &KeyError{FileKeys: []string{"age age1xyz", "kms arn:aws:kms:x"}, Held: "the keys held are 1 age identities and 0 PGP keys", Err: ErrNoMatchingKey}
	want := "no matching decryption key: the file is encrypted for age age1xyz, kms arn:aws:kms:x; the keys held are 1 age identities and 0 PGP keys"
	if diff := cmp.Diff(want, e.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if !errors.Is(e, ErrNoMatchingKey) {
		t.Error("a KeyError does not unwrap to its cause")
	}
}
