package decrypt

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	"github.com/getsops/sops/v3/stores/json"
	"github.com/getsops/sops/v3/stores/yaml"
	goyaml "go.yaml.in/yaml/v3"
)

// MaxFileSize caps the size of one encrypted file; larger ones are refused.
const MaxFileSize = 5 << 20

// Format is the format of a SOPS file, as sops names them.
type Format = formats.Format

// The formats sops supports.
const (
	Binary = formats.Binary
	Dotenv = formats.Dotenv
	Ini    = formats.Ini
	JSON   = formats.Json
	YAML   = formats.Yaml
)

// FormatForPath returns the format sops would use for a file of that name:
// by extension, binary when the extension says nothing.
func FormatForPath(name string) Format {
	return formats.FormatForPath(name)
}

// supportedKeyTypes are the SOPS master key types this build decrypts with.
var supportedKeyTypes = []string{"age", "pgp"}

// store is what a sops store offers that decryption needs.
type store interface {
	LoadEncryptedFile(in []byte) (sops.Tree, error)
	EmitPlainFile(branches sops.TreeBranches) ([]byte, error)
}

func storeFor(f Format) store {
	switch f {
	case YAML:
		return yaml.NewStore(&config.YAMLStoreConfig{})
	case JSON:
		return json.NewStore(&config.JSONStoreConfig{})
	case Dotenv:
		return dotenv.NewStore(&config.DotenvStoreConfig{})
	case Ini:
		return ini.NewStore(&config.INIStoreConfig{})
	default:
		return json.NewBinaryStore(&config.JSONBinaryStoreConfig{})
	}
}

// IsEncrypted reports whether data is a SOPS-encrypted file of format f:
// for YAML, JSON and binary files (which sops stores as JSON), a first
// document with a top-level sops mapping; for dotenv, a sops_ entry; for
// INI, a [sops] section. It says nothing about whether the file is well
// formed: Decrypt does.
func IsEncrypted(data []byte, f Format) bool {
	if !bytes.Contains(data, []byte("sops")) {
		return false
	}
	switch f {
	case Dotenv:
		return hasLinePrefix(data, "sops_")
	case Ini:
		return hasLinePrefix(data, "[sops]")
	default:
		return hasSopsKey(data)
	}
}

// hasSopsKey reports whether the first YAML (or JSON) document of data is a
// mapping with a sops key holding a mapping.
func hasSopsKey(data []byte) bool {
	var doc map[string]interface{}
	if err := goyaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return false
	}
	_, ok := doc["sops"].(map[string]interface{})
	return ok
}

func hasLinePrefix(data []byte, prefix string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxFileSize+1)
	for sc.Scan() {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), prefix) {
			return true
		}
	}
	return false
}

// Decrypt decrypts a SOPS file of format f with the keys held, verifies its
// MAC and returns the plaintext file in the same format. A nil *Keys
// decrypts nothing: the error wraps ErrNotConfigured. Errors never hold
// plaintext.
func (k *Keys) Decrypt(data []byte, f Format) ([]byte, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, over the limit of %d bytes: split the file", ErrTooLarge, len(data), MaxFileSize)
	}
	if k == nil {
		return nil, fmt.Errorf("%w: the file is SOPS-encrypted", ErrNotConfigured)
	}
	s := storeFor(f)
	tree, err := s.LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	svc := keyservice.NewCustomLocalClient(keyServer{keys: k})
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{svc}, nil)
	if err != nil {
		return nil, k.keyError(tree.Metadata)
	}
	if err := verify(&tree, key); err != nil {
		return nil, err
	}
	out, err := s.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("%w: the decrypted file cannot be written back in its format", ErrMalformed)
	}
	return out, nil
}

// verify decrypts the tree in place with the data key and checks its MAC.
// sops's own messages are not kept: they may quote values.
func verify(tree *sops.Tree, key []byte) error {
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		return fmt.Errorf("%w: a value cannot be decrypted with the data key", ErrMalformed)
	}
	original, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil || original != mac {
		return fmt.Errorf("%w: the file was changed after it was encrypted (edit it with sops, not by hand)", ErrMACMismatch)
	}
	return nil
}

// keyError says why no data key could be unwrapped: which keys the file
// is for, and what the decryptor holds.
func (k *Keys) keyError(md sops.Metadata) error {
	e := &KeyError{Held: k.describe(), Err: ErrUnsupportedKey}
	for _, group := range md.KeyGroups {
		for _, mk := range group {
			t := mk.TypeToIdentifier()
			e.FileKeys = append(e.FileKeys, t+" "+mk.ToString())
			if slices.Contains(supportedKeyTypes, t) {
				e.Err = ErrNoMatchingKey
			}
		}
	}
	if len(e.FileKeys) == 0 {
		e.FileKeys = []string{"no key"}
	}
	return e
}
