package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SubstituteDisabledAnnotation on an object turns substitution off for that
// object when its value is SubstituteDisabledValue.
const SubstituteDisabledAnnotation = "flotilla.io/substitute"

// SubstituteDisabledValue is the value of SubstituteDisabledAnnotation that
// turns substitution off.
const SubstituteDisabledValue = "disabled"

// Default limits, used when the Options leave them at zero.
const (
	// DefaultMaxFileSize caps the size of one file of the artifact.
	DefaultMaxFileSize int64 = 10 << 20
	// DefaultMaxTotalSize caps the bytes loaded from the artifact.
	DefaultMaxTotalSize int64 = 256 << 20
)

// Options say what to render.
type Options struct {
	// Root is the absolute path of the artifact root; nothing outside it is read.
	Root string
	// Path is the directory to render, relative to Root ("" or "." = Root).
	// Absolute paths and paths that climb out of Root are refused.
	Path string
	// TargetNamespace, when set, is the namespace of every namespaced object
	// (kustomize `namespace:` semantics).
	TargetNamespace string
	// CommonLabels are added to every object's metadata.labels, not to selectors
	// or templates (kustomize `labels:` with includeSelectors: false).
	CommonLabels map[string]string
	// CommonAnnotations are added to every object's metadata.annotations
	// (kustomize `commonAnnotations:` semantics, which include pod templates).
	CommonAnnotations map[string]string
	// Patches are strategic-merge or JSON6902 patches (kustomize `patches:`).
	Patches []Patch
	// Images set image names, tags and digests (kustomize `images:`).
	Images []Image
	// Substitute holds the postBuild variables; nil means no substitution
	// at all, while an empty map still applies defaults and reports
	// undefined variables.
	Substitute map[string]string
	// Decryption decrypts the SOPS-encrypted files the render reaches,
	// before kustomize runs and so before substitution; nil means none is
	// configured, and an encrypted file is an error naming it.
	Decryption Decryptor
	// MaxFileSize caps the size of one file; 0 means DefaultMaxFileSize.
	// Larger files are refused, with an error naming them, when referenced.
	MaxFileSize int64
	// MaxTotalSize caps the bytes loaded from the artifact (each file and
	// directory also counts 512 bytes); 0 means DefaultMaxTotalSize.
	MaxTotalSize int64

	// kustomizeOnly turns the fast path off (fastpath.go): the differential
	// tests render every input both ways.
	kustomizeOnly bool
}

// Patch is one kustomize patch: a strategic-merge patch or a JSON6902 patch
// in YAML, applied to the objects Target selects (or, for a strategic-merge
// patch without Target, to the object it names).
type Patch struct {
	// Patch is the patch document.
	Patch string
	// Target selects the objects to patch; required for JSON6902.
	Target *Selector
}

// Selector selects objects by identity, label selector or annotation selector.
// Empty fields match everything.
type Selector struct {
	Group, Version, Kind, Name, Namespace string
	// LabelSelector is a Kubernetes label selector, e.g. "app=web,tier!=db".
	LabelSelector string
	// AnnotationSelector is a selector on annotations, same syntax.
	AnnotationSelector string
}

// Image rewrites the image Name in every container (kustomize `images:`).
type Image struct {
	// Name is the image to match, without tag or digest.
	Name string
	// NewName replaces the name, when set.
	NewName string
	// NewTag replaces the tag, when set.
	NewTag string
	// Digest replaces tag and digest with this digest, when set.
	Digest string
}

// Build renders opts.Path of the artifact at opts.Root into Kubernetes
// objects, exactly as the agent applies them. Objects come back in the order
// kustomize emits them (resources depth-first, in the order listed). An empty
// result is not an error. Every error is an *Error wrapping one of the
// Err... sentinels.
func Build(ctx context.Context, opts Options) ([]*unstructured.Unstructured, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	t, err := loadTree(ctx, o.Root, o.limits())
	if err != nil {
		return nil, err
	}
	return build(ctx, t, o)
}

// build runs the steps on a loaded tree: find or generate the kustomization,
// refuse what is not allowed, add the Stack's overlay, run kustomize, then
// substitute and convert.
func build(ctx context.Context, t *tree, o Options) ([]*unstructured.Unstructured, error) {
	empty, err := t.prepareTarget(o.Path)
	if err != nil {
		return nil, err
	}
	if empty {
		return []*unstructured.Unstructured{}, nil
	}
	g := newGuard(ctx, t, o.Path)
	g.dec = o.Decryption
	if err := g.kustomization(o.Path, false); err != nil {
		return nil, err
	}
	if files, ok := t.fastPathFiles(o, g); ok {
		return fastBuild(ctx, t, files, o, g)
	}
	return slowBuild(ctx, t, o, g)
}

// slowBuild adds the Stack's overlay to the checked tree, runs kustomize,
// then substitutes and converts.
func slowBuild(ctx context.Context, t *tree, o Options, g *guard) ([]*unstructured.Unstructured, error) {
	if err := t.writeOverlay(o, g.buildMetadata); err != nil {
		return nil, err
	}
	m, err := runKustomize(ctx, t.fs, overlayDir, g.openAPI)
	if err != nil {
		return nil, kustomizeError(o.Path, err, g.artifactRedactor())
	}
	return toObjects(ctx, m.ToRNodeSlice(), o, g)
}

// normalize validates the options and fills in defaults.
func (o Options) normalize() (Options, error) {
	if !filepath.IsAbs(o.Root) {
		return o, &Error{Err: fmt.Errorf("%w: Root %q must be an absolute path", ErrInvalidOptions, o.Root)}
	}
	p, err := cleanPath(o.Path)
	if err != nil {
		return o, err
	}
	o.Path = p
	if err := checkPatches(o.Patches); err != nil {
		return o, err
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxTotalSize <= 0 {
		o.MaxTotalSize = DefaultMaxTotalSize
	}
	return o, nil
}

// cleanPath returns p cleaned, refusing absolute paths and paths that climb
// out of the root.
func cleanPath(p string) (string, error) {
	if p == "" || p == "." {
		return ".", nil
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return "", &Error{Path: p, Err: fmt.Errorf("%w: the path to render must be relative to the artifact root, not absolute", ErrOutsideRoot)}
	}
	if !filepath.IsLocal(p) {
		return "", &Error{Path: p, Err: fmt.Errorf("%w: the path to render climbs out of the artifact root: use a path inside the repository", ErrOutsideRoot)}
	}
	return filepath.Clean(p), nil
}

// checkPatches refuses Stack patches that kustomize would reject with a
// message that does not say they came from the Stack.
func checkPatches(patches []Patch) error {
	for i, p := range patches {
		docs, err := yamlDocuments(p.Patch)
		switch {
		case err != nil:
			return &Error{Err: fmt.Errorf("%w: the Stack's patches[%d] is not valid YAML: %v", ErrInvalidOptions, i, err)}
		case len(docs) == 0:
			return &Error{Err: fmt.Errorf("%w: the Stack's patches[%d] is empty", ErrInvalidOptions, i)}
		case docs[0].Kind == yaml.SequenceNode && p.Target == nil:
			return &Error{Err: fmt.Errorf("%w: the Stack's patches[%d] is a JSON6902 patch: give it a target", ErrInvalidOptions, i)}
		case docs[0].Kind != yaml.SequenceNode && docs[0].Kind != yaml.MappingNode:
			return &Error{Err: fmt.Errorf("%w: the Stack's patches[%d] is not a patch: write a strategic-merge patch (an object) or a JSON6902 patch (a list of operations)", ErrInvalidOptions, i)}
		}
	}
	return nil
}

// yamlDocuments parses every document of s, leaving out empty ones ("---"
// alone, or a null such as "~"), which kustomize ignores.
func yamlDocuments(s string) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(s))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) > 0 && doc.Content[0].ShortTag() != yaml.NodeTagNull {
			docs = append(docs, doc.Content[0])
		}
	}
}

func (o Options) limits() limits {
	return limits{file: o.MaxFileSize, total: o.MaxTotalSize}
}
