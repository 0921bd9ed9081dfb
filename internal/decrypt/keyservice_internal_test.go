package decrypt

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
)

// dataKey is the 32-byte key a sops file's values are encrypted with.
var dataKey = []byte("0123456789abcdef0123456789abcdef")

// ageKeys returns keys holding a fresh age identity, and its recipient.
func ageKeys(t *testing.T) (*Keys, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeys(map[string][]byte{"fleet.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	return k, id.Recipient().String()
}

// ageWrapped is dataKey wrapped for recipient, as sops stores it.
func ageWrapped(t *testing.T, recipient string) []byte {
	t.Helper()
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	if err := mk.Encrypt(dataKey); err != nil {
		t.Fatal(err)
	}
	return mk.EncryptedDataKey()
}

// pgpWrapped is dataKey encrypted to the armored key, armored as sops
// stores it.
func pgpWrapped(t *testing.T, armoredKey []byte) []byte {
	t.Helper()
	to, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armoredKey))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw, err := armor.Encode(&buf, "PGP MESSAGE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := openpgp.Encrypt(aw, to, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(dataKey); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ageRequest(recipient string, ciphertext []byte) *keyservice.DecryptRequest {
	return &keyservice.DecryptRequest{
		Key:        &keyservice.Key{KeyType: &keyservice.Key_AgeKey{AgeKey: &keyservice.AgeKey{Recipient: recipient}}},
		Ciphertext: ciphertext,
	}
}

func pgpRequest(ciphertext []byte) *keyservice.DecryptRequest {
	return &keyservice.DecryptRequest{
		Key:        &keyservice.Key{KeyType: &keyservice.Key_PgpKey{PgpKey: &keyservice.PgpKey{Fingerprint: "ignored"}}},
		Ciphertext: ciphertext,
	}
}

func TestKeyServerUnwrapsAge(t *testing.T) {
	k, recipient := ageKeys(t)
	resp, err := keyServer{keys: k}.Decrypt(context.Background(), ageRequest(recipient, ageWrapped(t, recipient)))
	if err != nil || !bytes.Equal(resp.GetPlaintext(), dataKey) {
		t.Fatalf("Decrypt = %q, %v; want the data key", resp.GetPlaintext(), err)
	}
}

func TestKeyServerUnwrapsPGP(t *testing.T) {
	key := pgpKey(t, false, "")
	k, err := ParseKeys(map[string][]byte{"fleet.asc": key})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := keyServer{keys: k}.Decrypt(context.Background(), pgpRequest(pgpWrapped(t, key)))
	if err != nil || !bytes.Equal(resp.GetPlaintext(), dataKey) {
		t.Fatalf("Decrypt = %q, %v; want the data key", resp.GetPlaintext(), err)
	}
}

func TestKeyServerRefusals(t *testing.T) {
	withAge, recipient := ageKeys(t)
	otherAge, otherRecipient := ageKeys(t)
	pgpA, pgpB := pgpKey(t, false, ""), pgpKey(t, false, "")
	withPGP, err := ParseKeys(map[string][]byte{"a.asc": pgpA})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := ParseKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		keys    *Keys
		req     *keyservice.DecryptRequest
		want    error
		wantMsg string
	}{
		{"age without identities", empty, ageRequest(recipient, ageWrapped(t, recipient)), ErrNoMatchingKey, "no age identity"},
		{"age for another identity", withAge, ageRequest(otherRecipient, ageWrapped(t, otherRecipient)), ErrNoMatchingKey, "no age identity matches"},
		{"age garbage", otherAge, ageRequest(otherRecipient, []byte("not an age file")), ErrNoMatchingKey, "no age identity matches"},
		{"PGP without keys", withAge, pgpRequest(pgpWrapped(t, pgpA)), ErrNoMatchingKey, "no PGP key"},
		{"PGP for another key", withPGP, pgpRequest(pgpWrapped(t, pgpB)), ErrNoMatchingKey, "no PGP key matches"},
		{"PGP not armored", withPGP, pgpRequest([]byte("binary")), ErrMalformed, "not armored"},
		{"a cloud KMS key", withAge, &keyservice.DecryptRequest{Key: &keyservice.Key{KeyType: &keyservice.Key_KmsKey{KmsKey: &keyservice.KmsKey{Arn: "arn:aws:kms:x"}}}}, ErrUnsupportedKey, ""},
		{"a Vault key", withAge, &keyservice.DecryptRequest{Key: &keyservice.Key{KeyType: &keyservice.Key_VaultKey{VaultKey: &keyservice.VaultKey{}}}}, ErrUnsupportedKey, ""},
		{"no key at all", withAge, &keyservice.DecryptRequest{}, ErrUnsupportedKey, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := keyServer{keys: tc.keys}.Decrypt(context.Background(), tc.req)
			if !errors.Is(err, tc.want) || resp != nil {
				t.Fatalf("Decrypt = %v, %v; want nothing and %v", resp, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to say %q", err, tc.wantMsg)
			}
		})
	}
}

func TestKeyServerRefusesToEncrypt(t *testing.T) {
	k, _ := ageKeys(t)
	resp, err := keyServer{keys: k}.Encrypt(context.Background(), &keyservice.EncryptRequest{Plaintext: dataKey})
	if !errors.Is(err, errEncryptRefused) || resp != nil {
		t.Errorf("Encrypt = %v, %v; want it refused", resp, err)
	}
}

func TestDecryptMalformedFiles(t *testing.T) {
	k, _ := ageKeys(t)
	for _, tc := range []struct {
		name   string
		format Format
		data   string
	}{
		{"YAML without sops metadata", YAML, "apiVersion: v1\nkind: Secret\n"},
		{"YAML with a sops key of the wrong shape", YAML, "data: x\nsops: 3\n"},
		{"JSON that does not parse", JSON, `{"sops": `},
		{"dotenv without sops entries", Dotenv, "A=1\n"},
		{"INI without a sops section", Ini, "[main]\na = 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := k.Decrypt([]byte(tc.data), tc.format)
			if !errors.Is(err, ErrMalformed) || out != nil {
				t.Errorf("Decrypt = %q, %v; want ErrMalformed", out, err)
			}
		})
	}
}

func TestDecryptSizeLimitIsInclusive(t *testing.T) {
	atLimit := bytes.Repeat([]byte("#"), MaxFileSize)
	if _, err := (*Keys)(nil).Decrypt(atLimit, YAML); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("a file of exactly MaxFileSize: %v, want it read (and refused for want of keys)", err)
	}
	_, err := (*Keys)(nil).Decrypt(append(atLimit, '#'), YAML)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "5242881 bytes, over the limit of 5242880 bytes") {
		t.Errorf("one byte over: %v, want ErrTooLarge with both sizes", err)
	}
}
