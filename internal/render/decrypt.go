package render

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

// Annotations that turn decryption off for one object (or, in a
// generator's options.annotations, for its files), when their value is
// DecryptDisabledValue: Flotilla's own and Flux's.
const (
	DecryptAnnotation     = "flotilla.io/decrypt"
	FluxDecryptAnnotation = "kustomize.toolkit.fluxcd.io/decrypt"
	DecryptDisabledValue  = "Disabled"
)

// ErrDecryption means a SOPS-encrypted file could not be decrypted, or
// there is no decryption configured for it. It wraps a cause of package
// decrypt (decrypt.ErrNotConfigured, decrypt.ErrNoMatchingKey...).
var ErrDecryption = errors.New("decryption failed")

// Decryptor decrypts one SOPS file; *decrypt.Keys is one. A nil Decryptor
// in Options means the Stack has no decryption configured: an encrypted
// file is then an error naming it, never applied as ciphertext.
type Decryptor interface {
	Decrypt(data []byte, format decrypt.Format) ([]byte, error)
}

// decryptionDisabled reports whether annotations opt out of decryption.
func decryptionDisabled(annotations map[string]string) bool {
	for _, k := range []string{DecryptAnnotation, FluxDecryptAnnotation} {
		if strings.EqualFold(annotations[k], DecryptDisabledValue) {
			return true
		}
	}
	return false
}

// decryptData decrypts the SOPS file p (or a part of it, what).
func (g *guard) decryptData(p, what string, data []byte, f decrypt.Format) ([]byte, error) {
	where := p
	if what != "" {
		where = p + " (" + what + ")"
	}
	if g.dec == nil {
		return nil, &Error{Path: p, Err: fmt.Errorf("%w: %w: %s is SOPS-encrypted and the Stack has no spec.decryption: "+
			"add spec.decryption with a Secret holding its key, or annotate the object %s: %s to apply it as it is",
			ErrDecryption, decrypt.ErrNotConfigured, where, DecryptAnnotation, DecryptDisabledValue)}
	}
	out, err := g.dec.Decrypt(data, f)
	if err != nil {
		return nil, &Error{Path: p, Err: fmt.Errorf("%w: %s: %w", ErrDecryption, where, err)}
	}
	return out, nil
}

// decryptResources decrypts, in the resource file p, the SOPS-encrypted
// objects (the whole file as sops encrypts a multi-document file, or each
// document on its own) and then the SOPS files inside Secrets' data and
// stringData. Objects annotated DecryptAnnotation: Disabled are left as
// they are. A file that does not parse is returned unchanged, for
// resourceFile to report.
func (g *guard) decryptResources(p string, data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte("sops")) {
		return data, nil
	}
	nodes, err := parseObjects(p, data)
	if err != nil {
		return data, nil
	}
	if data, err = g.decryptDocuments(p, data, nodes); err != nil {
		return nil, err
	}
	if nodes, err = parseObjects(p, data); err != nil {
		return nil, &Error{Path: p, Err: fmt.Errorf("%w: the decrypted file does not parse: %w", ErrDecryption, ErrInvalidYAML)}
	}
	changed := false
	for _, n := range nodes {
		c, err := g.decryptSecretEntries(p, n)
		if err != nil {
			return nil, err
		}
		changed = changed || c
	}
	if !changed {
		return data, nil
	}
	out, err := kio.StringAll(nodes)
	if err != nil {
		return nil, &Error{Path: p, Err: fmt.Errorf("%w: the decrypted Secret cannot be written back", ErrDecryption)}
	}
	return []byte(out), nil
}

// decryptDocuments decrypts the encrypted documents of a resource file.
func (g *guard) decryptDocuments(p string, data []byte, nodes []*yaml.RNode) ([]byte, error) {
	format := decrypt.YAML
	if filepath.Ext(p) == ".json" {
		format = decrypt.JSON
	}
	encrypted := make([]bool, len(nodes))
	any, disabled := false, false
	for i, n := range nodes {
		encrypted[i] = isSopsObject(n)
		any = any || encrypted[i]
		disabled = disabled || decryptionDisabled(n.GetAnnotations())
	}
	switch {
	case !any:
		return data, nil
	case len(nodes) == 1 || (encrypted[0] && !disabled && sameMAC(nodes)):
		if disabled {
			return data, nil
		}
		return g.decryptData(p, "", data, format)
	}
	docs := splitDocuments(data)
	if len(docs) != len(nodes) {
		return nil, &Error{Path: p, Err: fmt.Errorf("%w: the file mixes SOPS-encrypted documents in a way that cannot be split: "+
			"keep each encrypted object in a file of its own", ErrDecryption)}
	}
	for i, n := range nodes {
		if !encrypted[i] || decryptionDisabled(n.GetAnnotations()) {
			continue
		}
		out, err := g.decryptData(p, fmt.Sprintf("document %d", i+1), docs[i], format)
		if err != nil {
			return nil, err
		}
		docs[i] = out
	}
	return bytes.Join(docs, []byte("---\n")), nil
}

// isSopsObject reports whether n carries SOPS metadata: a top-level sops
// mapping with a mac.
func isSopsObject(n *yaml.RNode) bool {
	s := n.Field("sops")
	return s != nil && s.Value.YNode().Kind == yaml.MappingNode && s.Value.Field("mac") != nil
}

// sameMAC reports whether every encrypted document has the same MAC: sops
// encrypted the file as a whole and repeated its metadata in each document.
func sameMAC(nodes []*yaml.RNode) bool {
	var mac string
	for _, n := range nodes {
		if !isSopsObject(n) {
			return false
		}
		m := n.Field("sops").Value.Field("mac").Value.YNode().Value
		if mac != "" && m != mac {
			return false
		}
		mac = m
	}
	return true
}

// documentSeparator matches a YAML document separator line.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?\r?\n?`)

// splitDocuments splits a YAML stream into its non-empty documents.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range documentSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// decryptSecretEntries decrypts the entries of a Secret's data and
// stringData that are SOPS files, the format told by the entry's name
// (.yaml, .json, .env, .ini, anything else binary), as Flux does.
func (g *guard) decryptSecretEntries(p string, n *yaml.RNode) (bool, error) {
	if n.GetKind() != "Secret" || decryptionDisabled(n.GetAnnotations()) {
		return false, nil
	}
	changed := false
	for _, field := range []string{"data", "stringData"} {
		m := n.Field(field)
		if m == nil || m.Value.YNode().Kind != yaml.MappingNode {
			continue
		}
		content := m.Value.YNode().Content
		for i := 0; i+1 < len(content); i += 2 {
			c, err := g.decryptEntry(p, n, field, content[i].Value, content[i+1])
			if err != nil {
				return false, err
			}
			changed = changed || c
		}
	}
	return changed, nil
}

func (g *guard) decryptEntry(p string, n *yaml.RNode, field, key string, v *yaml.Node) (bool, error) {
	value := []byte(v.Value)
	if field == "data" {
		decoded, err := base64.StdEncoding.DecodeString(v.Value)
		if err != nil {
			return false, nil
		}
		value = decoded
	}
	format := decrypt.FormatForPath(key)
	if !decrypt.IsEncrypted(value, format) {
		return false, nil
	}
	what := fmt.Sprintf("%s, %s key %s", objectName("Secret", n.GetNamespace(), n.GetName()), field, key)
	out, err := g.decryptData(p, what, value, format)
	if err != nil {
		return false, err
	}
	v.Value, v.Style, v.Tag = string(out), yaml.LiteralStyle, yaml.NodeTagString
	if field == "data" {
		v.Value, v.Style = base64.StdEncoding.EncodeToString(out), 0
	}
	return true, nil
}

// decryptGeneratorSources decrypts, in place, the SOPS-encrypted envs and
// files of a secretGenerator, and refuses encrypted files in a
// configMapGenerator: their plaintext must not land in a ConfigMap, and
// their ciphertext must not be applied.
func (c *check) decryptGeneratorSources(ga generatorArg) error {
	if ga.args.Options != nil && decryptionDisabled(ga.args.Options.Annotations) {
		return nil
	}
	for _, e := range append(ga.args.EnvSources, ga.args.EnvSource) {
		if err := c.decryptSource(ga, e, decrypt.Dotenv); err != nil {
			return err
		}
	}
	for _, f := range ga.args.FileSources {
		if err := c.decryptSource(ga, fileSourcePath(f), decrypt.FormatForPath(fileSourcePath(f))); err != nil {
			return err
		}
	}
	return nil
}

func (c *check) decryptSource(ga generatorArg, e string, f decrypt.Format) error {
	if e == "" {
		return nil
	}
	p := filepath.Join(c.dir, e)
	data, err := c.g.t.readFile(p)
	if err != nil || !decrypt.IsEncrypted(data, f) {
		return nil // a missing file is reported by files()
	}
	if !ga.secret {
		return &Error{Path: p, Err: fmt.Errorf("%w: %s %q reads %s, which is SOPS-encrypted: use a secretGenerator for secrets",
			ErrDecryption, ga.field, ga.args.Name, e)}
	}
	out, err := c.g.decryptData(p, "", data, f)
	if err != nil {
		return err
	}
	return c.g.t.fs.WriteFile(c.g.t.abs(p), out)
}

// decryptInPlace decrypts the resource file p and, when anything was
// decrypted, replaces it in the in-memory file system: plaintext never
// reaches a disk.
func (g *guard) decryptInPlace(p string, data []byte) ([]byte, error) {
	out, err := g.decryptResources(p, data)
	if err != nil || bytes.Equal(out, data) {
		return out, err
	}
	if err := g.t.fs.WriteFile(g.t.abs(p), out); err != nil {
		return nil, &Error{Path: p, Err: err}
	}
	return out, nil
}

// refuseEncrypted refuses a SOPS-encrypted file in a field that is not
// decrypted (patches, replacements, crds...): kustomize would read the
// ciphertext. Generator files and envs are decrypted later.
func (c *check) refuseEncrypted(ref fileRef, p string) error {
	if strings.HasSuffix(ref.field, ".envs") || strings.HasSuffix(ref.field, ".files") {
		return nil
	}
	data, err := c.g.t.readFile(p)
	if err != nil || !decrypt.IsEncrypted(data, decrypt.FormatForPath(p)) {
		return nil
	}
	return c.fail(ref.raw, fmt.Errorf("%w: %s entry %q is SOPS-encrypted, and only resources and secretGenerator files are decrypted: "+
		"keep secrets in a Secret among the resources", ErrDecryption, ref.field, ref.entry))
}
