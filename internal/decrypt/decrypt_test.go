package decrypt_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v3"

	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/test/sopstest"
)

// canary is a marker planted in every plaintext; no error may hold it.
const canary = "canary-7f3a9c-plaintext"

func keysFor(t *testing.T, entries map[string][]byte) *decrypt.Keys {
	t.Helper()
	k, err := decrypt.ParseKeys(entries)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDecryptEveryFormatWithAge(t *testing.T) {
	sopstest.Require(t)
	key := sopstest.NewAgeKey(t)
	keys := keysFor(t, map[string][]byte{"identity.agekey": []byte(key.Identity)})
	cases := []struct {
		name, file, plaintext string
		format                decrypt.Format
	}{
		{"yaml object", "secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\nstringData:\n    token: " + canary + "\n", decrypt.YAML},
		{"json object", "secret.json", "{\n\t\"kind\": \"Secret\",\n\t\"token\": \"" + canary + "\"\n}", decrypt.JSON},
		{"dotenv", "app.env", "TOKEN=" + canary + "\nREGION=eu\n", decrypt.Dotenv},
		{"ini", "app.ini", "[db]\npassword = " + canary + "\n", decrypt.Ini},
		{"binary", "tls.key", "-----BEGIN KEY-----\n" + canary + "\n-----END KEY-----\n", decrypt.Binary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := decrypt.FormatForPath(tc.file); got != tc.format {
				t.Fatalf("FormatForPath(%q) = %v, want %v", tc.file, got, tc.format)
			}
			enc := sopstest.Encrypt(t, tc.file, []byte(tc.plaintext), sopstest.ToAge(key))
			if bytes.Contains(enc, []byte(canary)) {
				t.Fatal("sops left the plaintext in the encrypted file")
			}
			if !decrypt.IsEncrypted(enc, tc.format) {
				t.Fatal("IsEncrypted = false for a file sops encrypted")
			}
			if decrypt.IsEncrypted([]byte(tc.plaintext), tc.format) {
				t.Fatal("IsEncrypted = true for the plaintext")
			}
			got, err := keys.Decrypt(enc, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(got, []byte(canary)) {
				t.Errorf("the decrypted file lacks the plaintext:\n%s", got)
			}
		})
	}
}

func TestDecryptWithPGP(t *testing.T) {
	sopstest.Require(t)
	pgp := sopstest.NewPGPKey(t)
	enc := sopstest.Encrypt(t, "secret.yaml", []byte("token: "+canary+"\n"), sopstest.ToPGP(pgp))
	got, err := keysFor(t, map[string][]byte{"sops.asc": pgp.Armored}).Decrypt(enc, decrypt.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "token: "+canary+"\n" {
		t.Errorf("got %q", got)
	}
}

func TestDecryptFailures(t *testing.T) {
	sopstest.Require(t)
	right, wrong := sopstest.NewAgeKey(t), sopstest.NewAgeKey(t)
	plain := []byte("apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\nstringData:\n    token: " + canary + "\n")
	enc := sopstest.Encrypt(t, "secret.yaml", plain, sopstest.Recipients{Age: []string{right.Recipient}, EncryptedRegex: "^(data|stringData)$"})
	cases := []struct {
		name    string
		keys    map[string][]byte
		nilKeys bool
		data    []byte
		want    error
		wantMsg []string
	}{
		{name: "wrong age identity", keys: map[string][]byte{"x.agekey": []byte(wrong.Identity)}, data: enc,
			want: decrypt.ErrNoMatchingKey, wantMsg: []string{"age " + right.Recipient, "1 age identities"}},
		{name: "no keys configured", nilKeys: true, data: enc, want: decrypt.ErrNotConfigured},
		{name: "an empty Secret", keys: map[string][]byte{}, data: enc, want: decrypt.ErrNoMatchingKey, wantMsg: []string{"0 age identities and 0 PGP keys"}},
		{name: "only a cloud entry", keys: map[string][]byte{"sops.aws-kms": []byte("aws_access_key_id: x")}, data: enc,
			want: decrypt.ErrNoMatchingKey, wantMsg: []string{"sops.aws-kms, which this build of Flotilla does not support"}},
		{name: "edited by hand (MAC)", keys: map[string][]byte{"x.agekey": []byte(right.Identity)},
			data: bytes.Replace(enc, []byte("name: s\n"), []byte("name: t\n"), 1), want: decrypt.ErrMACMismatch},
		{name: "over 5 MiB", keys: map[string][]byte{"x.agekey": []byte(right.Identity)},
			data: append(bytes.Repeat([]byte("#"), decrypt.MaxFileSize), enc...), want: decrypt.ErrTooLarge},
		{name: "for a cloud KMS only", keys: map[string][]byte{"x.agekey": []byte(right.Identity), "sops.gcp-kms": []byte("{}")},
			data: kmsOnly(t, enc), want: decrypt.ErrUnsupportedKey, wantMsg: []string{"kms arn:aws:kms:eu-west-1:000000000000:key/test", "sops.gcp-kms"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var keys *decrypt.Keys
			if !tc.nilKeys {
				keys = keysFor(t, tc.keys)
			}
			out, err := keys.Decrypt(tc.data, decrypt.YAML)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if out != nil {
				t.Error("output returned with an error")
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
			assertNoCanary(t, err.Error())
		})
	}
}

// kmsOnly turns a file encrypted for age into one encrypted for AWS KMS only.
func kmsOnly(t *testing.T, enc []byte) []byte {
	t.Helper()
	var doc map[string]interface{}
	if err := goyaml.Unmarshal(enc, &doc); err != nil {
		t.Fatal(err)
	}
	md := doc["sops"].(map[string]interface{})
	delete(md, "age")
	md["kms"] = []interface{}{map[string]interface{}{"arn": "arn:aws:kms:eu-west-1:000000000000:key/test", "enc": "AQID", "created_at": "2026-01-01T00:00:00Z"}}
	out, err := goyaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertNoCanary(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, canary) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(canary))) {
		t.Errorf("the plaintext leaked into %q", s)
	}
}

func TestParseKeys(t *testing.T) {
	cases := []struct {
		name    string
		entries map[string][]byte
		want    error
		wantMsg string
	}{
		{name: "age identities with comments", entries: map[string][]byte{"a.agekey": testIdentity(t)}},
		{name: "other entries are ignored", entries: map[string][]byte{"README": []byte("not a key"), "sops.vault-token": []byte("s.xyz")}},
		{name: "a broken age entry", entries: map[string][]byte{"bad.agekey": []byte("AGE-SECRET-KEY-1NOTAKEY")}, want: decrypt.ErrInvalidKey, wantMsg: "bad.agekey"},
		{name: "a broken PGP entry", entries: map[string][]byte{"bad.asc": []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope")}, want: decrypt.ErrInvalidKey, wantMsg: "bad.asc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decrypt.ParseKeys(tc.entries)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil && (!strings.Contains(err.Error(), tc.wantMsg) || strings.Contains(err.Error(), "NOTAKEY")) {
				t.Errorf("error %q should name %q and quote nothing", err, tc.wantMsg)
			}
		})
	}
}

// testIdentity is the test-only age identity that encrypted the committed
// fixtures of testdata (see testdata/test-only.agekey).
func testIdentity(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/test-only.agekey")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCommittedFixtures(t *testing.T) {
	keys := keysFor(t, map[string][]byte{"test.agekey": testIdentity(t)})
	cases := []struct {
		file, want string
	}{
		{"testdata/secret.sops.yaml", "password: fixture-password-not-secret"},
		{"testdata/app.sops.env", "API_TOKEN=fixture-token-not-secret"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := keys.Decrypt(data, decrypt.FormatForPath(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tc.want) {
				t.Errorf("decrypted %s lacks %q:\n%s", tc.file, tc.want, got)
			}
		})
	}
}
