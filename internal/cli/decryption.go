package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// decryptionKeysUsage is the help of --decryption-keys, on every verb that renders.
const decryptionKeysUsage = "decrypt SOPS files with these keys, as the agent does: a Secret manifest (its data and stringData), " +
	"a directory of key files, or one key file; entries named <name>.agekey (age) or <name>.asc (PGP), as in the agent's decryption Secret"

// loadDecryptionKeys reads the keys --decryption-keys names; "" means none
// (nil keys). The file is one of:
//   - a Secret manifest (kind: Secret), whose data and stringData entries
//     are the entries, as in the Secret the agent reads;
//   - a directory, each regular file an entry named by its file name;
//   - one key file, an entry named by its file name (*.agekey, *.asc).
//
// Errors name the file, never a key.
func loadDecryptionKeys(path string) (*decrypt.Keys, error) {
	if path == "" {
		return nil, nil
	}
	entries, err := keyEntries(path)
	if err != nil {
		return nil, fmt.Errorf("--decryption-keys %s: %w", path, err)
	}
	keys, err := decrypt.ParseKeys(entries)
	if err != nil {
		return nil, fmt.Errorf("--decryption-keys %s: %w", path, err)
	}
	if keys.Empty() {
		return nil, fmt.Errorf("--decryption-keys %s: holds no age or PGP key: name entries <name>.agekey or <name>.asc", path)
	}
	return keys, nil
}

func keyEntries(path string) (map[string][]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return keyDirectory(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if entries, ok := secretManifest(data); ok {
		return entries, nil
	}
	name := filepath.Base(path)
	if !strings.HasSuffix(name, decrypt.AgeKeySuffix) && !strings.HasSuffix(name, decrypt.PGPKeySuffix) {
		return nil, fmt.Errorf("not a Secret manifest, and its name ends in neither %s nor %s: rename it, or give a Secret manifest or a directory",
			decrypt.AgeKeySuffix, decrypt.PGPKeySuffix)
	}
	return map[string][]byte{name: data}, nil
}

func keyDirectory(dir string) (map[string][]byte, error) {
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	entries := map[string][]byte{}
	for _, e := range list {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		entries[e.Name()] = data
	}
	return entries, nil
}

// secretManifest returns the entries of a Secret manifest, or false when
// data is not one.
func secretManifest(data []byte) (map[string][]byte, bool) {
	var s corev1.Secret
	if err := yaml.Unmarshal(data, &s); err != nil || s.Kind != "Secret" {
		return nil, false
	}
	entries := map[string][]byte{}
	for k, v := range s.Data {
		entries[k] = v
	}
	for k, v := range s.StringData {
		entries[k] = []byte(v)
	}
	return entries, true
}

// stackKeys are the keys a Stack's render decrypts with, as the agent's:
// none when the Stack has no spec.decryption (its encrypted files fail
// there too); else those of --decryption-keys when given, else the Stack's
// decryption Secret, read from the cluster.
func stackKeys(ctx context.Context, c client.Reader, st *v1alpha1.Stack, keysFile string) (*decrypt.Keys, error) {
	if st.Spec.Decryption == nil {
		return nil, nil
	}
	if keysFile != "" {
		return loadDecryptionKeys(keysFile)
	}
	keys, err := stackspec.DecryptionKeys(ctx, c, st)
	if err != nil {
		return nil, fmt.Errorf("decryption keys of Stack %s/%s: %w; or give the keys with --decryption-keys FILE", st.Namespace, st.Name, err)
	}
	return keys, nil
}
