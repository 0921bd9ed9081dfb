package decrypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	sopsage "github.com/getsops/sops/v3/age"
)

// Entry names and suffixes of the decryption Secret, as Flux names them.
const (
	// AgeKeySuffix ends the name of an entry holding age identities.
	AgeKeySuffix = ".agekey"
	// PGPKeySuffix ends the name of an entry holding armored PGP private keys.
	PGPKeySuffix = ".asc"
	// VaultTokenKey holds a HashiCorp Vault token (not supported by this build).
	VaultTokenKey = "sops.vault-token"
	// AWSKMSKey holds AWS credentials (not supported by this build).
	AWSKMSKey = "sops.aws-kms"
	// AzureKVKey holds Azure Key Vault credentials (not supported by this build).
	AzureKVKey = "sops.azure-kv"
	// GCPKMSKey holds GCP credentials (not supported by this build).
	GCPKMSKey = "sops.gcp-kms"
)

// unsupportedEntries maps the cloud and Vault entries to the SOPS key type
// they would decrypt.
var unsupportedEntries = map[string]string{
	VaultTokenKey: "hc_vault",
	AWSKMSKey:     "kms",
	AzureKVKey:    "azure_kv",
	GCPKMSKey:     "gcp_kms",
}

// Keys are the private keys of a decryption Secret, held in memory.
type Keys struct {
	age         sopsage.ParsedIdentities
	pgp         openpgp.EntityList
	unsupported []string // entry names this build recognises but cannot use
	digest      string
}

// ParseKeys parses the entries of a decryption Secret (entry name ->
// content). Entries with other names are ignored, as Flux ignores them. An
// entry that cannot be parsed is an error naming the entry, never quoting it.
func ParseKeys(entries map[string][]byte) (*Keys, error) {
	k := &Keys{}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		if err := k.add(name, entries[name]); err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", name, len(entries[name]), entries[name])
	}
	k.digest = hex.EncodeToString(h.Sum(nil))
	return k, nil
}

func (k *Keys) add(name string, data []byte) error {
	switch {
	case strings.HasSuffix(name, AgeKeySuffix):
		if err := k.age.Import(string(data)); err != nil {
			return fmt.Errorf("%w: entry %s does not hold age identities (AGE-SECRET-KEY-1..., one a line)", ErrInvalidKey, name)
		}
	case strings.HasSuffix(name, PGPKeySuffix):
		return k.addPGP(name, data)
	case unsupportedEntries[name] != "":
		k.unsupported = append(k.unsupported, name)
	}
	return nil
}

func (k *Keys) addPGP(name string, data []byte) error {
	list, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: entry %s is not an armored PGP key (gpg --export-secret-keys --armor)", ErrInvalidKey, name)
	}
	for _, e := range list {
		if e.PrivateKey == nil {
			return fmt.Errorf("%w: entry %s holds a public PGP key: export the private key (gpg --export-secret-keys --armor)", ErrInvalidKey, name)
		}
		if e.PrivateKey.Encrypted {
			return fmt.Errorf("%w: entry %s holds a PGP key protected by a passphrase: export a key without one", ErrInvalidKey, name)
		}
	}
	k.pgp = append(k.pgp, list...)
	return nil
}

// Empty reports whether k holds no key this build can decrypt with.
func (k *Keys) Empty() bool {
	return k == nil || (len(k.age) == 0 && len(k.pgp) == 0)
}

// describe says what k holds, for errors: counts and entry names, no key.
func (k *Keys) describe() string {
	if k == nil {
		return "no keys are configured"
	}
	s := fmt.Sprintf("the keys held are %d age identities and %d PGP keys", len(k.age), len(k.pgp))
	if len(k.unsupported) > 0 {
		s += fmt.Sprintf(", and the entries %s, which this build of Flotilla does not support (use age or PGP)", strings.Join(k.unsupported, ", "))
	}
	return s
}

// Digest identifies the keys held (a SHA-256 over the entries parsed), so
// that a cached render can tell that the keys changed. It reveals nothing
// of them.
func (k *Keys) Digest() string {
	if k == nil {
		return ""
	}
	return k.digest
}
