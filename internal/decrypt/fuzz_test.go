package decrypt_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

// FuzzDecrypt feeds arbitrary files to detection and decryption, in every
// format: neither may panic, a file that is not detected as encrypted is
// never decrypted, and nothing comes back with an error. Seeds are the
// committed fixtures, encrypted by the real sops with the test-only key.
func FuzzDecrypt(f *testing.F) {
	for _, name := range []string{"testdata/secret.sops.yaml", "testdata/app.sops.env"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(decrypt.FormatForPath(name)))
		f.Add(bytes.Replace(data, []byte("ENC["), []byte("ENC[x"), 1), uint8(decrypt.FormatForPath(name)))
	}
	f.Add([]byte(`{"data":"ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]","sops":{"mac":"x"}}`), uint8(decrypt.Binary))
	f.Add([]byte("[sops]\nmac = x\n"), uint8(decrypt.Ini))
	identity, err := os.ReadFile("testdata/test-only.agekey")
	if err != nil {
		f.Fatal(err)
	}
	keys, err := decrypt.ParseKeys(map[string][]byte{"test.agekey": identity})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		fm := decrypt.Format(int(format) % 5)
		encrypted := decrypt.IsEncrypted(data, fm)
		out, err := keys.Decrypt(data, fm)
		if err != nil && out != nil {
			t.Fatal("output returned with an error")
		}
		if !encrypted && err == nil && fm != decrypt.Binary {
			t.Fatalf("a file not detected as encrypted was decrypted (format %v)", fm)
		}
	})
}

// FuzzParseKeys feeds arbitrary Secret entries to ParseKeys: it may refuse
// them, never panic, and never quote them in its error.
func FuzzParseKeys(f *testing.F) {
	identity, err := os.ReadFile("testdata/test-only.agekey")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("key.agekey", identity)
	f.Add("key.asc", []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n-----END PGP PRIVATE KEY BLOCK-----\n"))
	f.Add("sops.aws-kms", []byte("aws_access_key_id: x"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		_, err := decrypt.ParseKeys(map[string][]byte{name: data})
		if err == nil || len(data) <= 8 || !bytes.Contains([]byte(err.Error()), data) {
			return
		}
		// The error's own text (the entry's name, the hint "AGE-SECRET-KEY-1...")
		// may hold the data by chance: the same entry with other data says it too.
		if _, other := decrypt.ParseKeys(map[string][]byte{name: []byte("x")}); other != nil && bytes.Contains([]byte(other.Error()), data) {
			return
		}
		t.Fatalf("the error quotes the entry: %v", err)
	})
}
