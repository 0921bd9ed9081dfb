package render

import (
	"context"
	_ "embed"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	//lint:ignore SA1019 the fast path must transform exactly as the pinned kustomize (go.mod) does, with its own builtin transformers; TestKustomizeDefaultsMatchTheModule fails when kustomize moves
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/filters/annotations"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// The fast path renders a directory of plain YAML files (no
// kustomization.yaml, so render generates one) without kustomize's
// accumulator, whose duplicate check, name-reference fix-up, namespace
// conflict check and local-config filter each scan every object for every
// object: quadratic in the objects of one build
// (https://github.com/kubernetes-sigs/kustomize/issues/4986, PR 5081 never
// merged). It does what kustomize does for that input, with kustomize's own
// parts, in linear time:
//
//   - each file is parsed by kustomize's resource factory (documents, List
//     kinds, empty documents, as kustomize reads them);
//   - ids are checked for duplicates in a map, with kustomize's notion of
//     equal ids (group, version, kind, name, and namespace with "" = default);
//   - the Stack's targetNamespace, commonMetadata labels and annotations are
//     applied by kustomize's builtin transformer plugins, configured as
//     kustomize configures them, one object at a time;
//   - objects annotated config.kubernetes.io/local-config are dropped by
//     kustomize's factory, and build annotations removed.
//
// What the fast path does not do, it does not take: a render goes through
// kustomize when the path has its own kustomization, lists a subdirectory
// with one, when the Stack has patches or images, when an object carries a
// kustomize annotation (config.kubernetes.io/*, kustomize.config.k8s.io/*,
// internal.config.kubernetes.io/*), or when kustomize's name-reference
// fix-up could change a field (some object's field holds the name of an
// object of a kind kustomize treats as referable from it) or fail on one (a
// referring field's path runs through a scalar, a referring mapping has no
// name). That is decided
// from the inputs before anything is rendered, never by catching a failure.
// fastpath_test.go renders every fixture, generated fleets and fuzzed
// inputs both ways and compares the results byte for byte.

// kustomizeDefaultsYAML is kustomize's default configuration of the fields
// the fast path reproduces (kustomize keeps it in an internal package).
//
//go:embed kustomize_defaults.yaml
var kustomizeDefaultsYAML []byte

// kustomizeDefaults is the part of kustomize's TransformerConfig the fast
// path needs.
type kustomizeDefaults struct {
	NameSpace         types.FsSlice        `json:"namespace"`
	CommonAnnotations types.FsSlice        `json:"commonAnnotations"`
	NameReference     []nameBackReferences `json:"nameReference"`
}

// nameBackReferences is a kind objects refer to by name, and the fields
// that refer to it (kustomize's builtinconfig.NameBackReferences).
type nameBackReferences struct {
	resid.Gvk `json:",inline"`
	Referrers types.FsSlice `json:"fieldSpecs"`
}

var (
	defaultsOnce sync.Once
	defaults     kustomizeDefaults
	defaultsErr  error
)

// loadDefaults parses kustomizeDefaultsYAML once.
func loadDefaults() (kustomizeDefaults, error) {
	defaultsOnce.Do(func() {
		defaultsErr = sigsyaml.Unmarshal(kustomizeDefaultsYAML, &defaults)
	})
	return defaults, defaultsErr
}

// fastRenders counts the renders that took the fast path, so tests can
// tell that they compared something.
var fastRenders atomic.Int64

// resourceFactory parses files exactly as kustomize's loader does.
var resourceFactory = provider.NewDefaultDepProvider().GetResourceFactory()

// fastPathFiles returns the files of the generated kustomization of
// o.Path when the render may take the fast path as far as the tree and the
// options tell: the path has no kustomization of its own, every entry of
// the listing is a file, and the Stack sets neither patches nor images.
func (t *tree) fastPathFiles(o Options, g *guard) ([]string, bool) {
	if o.kustomizeOnly || t.generated == nil || len(o.Patches) > 0 || len(o.Images) > 0 || g.openAPI {
		return nil, false
	}
	for _, f := range t.generated {
		if !t.isFile(filepath.Join(o.Path, f)) {
			return nil, false
		}
	}
	return t.generated, true
}

// fastInput is one object read by the fast path and the file it came from.
type fastInput struct {
	res  *resource.Resource
	file string // relative to the artifact root
}

// readFast parses the listed files of dir in order, as kustomize reads them.
func readFast(ctx context.Context, t *tree, o Options, files []string, g *guard) ([]fastInput, error) {
	dir := o.Path
	var in []fastInput
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Path: dir, Err: err}
		}
		file := filepath.Join(dir, f)
		data, err := t.readFile(file)
		if err != nil {
			return nil, &Error{Path: file, Err: err}
		}
		rs, err := resourceFactory.SliceFromBytes(data)
		if err != nil {
			return nil, &Error{Path: file, Err: fmt.Errorf("%w: %s: %s", ErrKustomize, file, g.artifactRedactor().Error(err))}
		}
		for _, r := range rs {
			in = append(in, fastInput{res: r, file: file})
		}
	}
	return in, nil
}

// annotateOrigins records each object's file as kustomize does, in its
// origin annotation and with its annotation filter, so that the converter
// names files in errors and removes the annotation as on the other path.
func annotateOrigins(in []fastInput) ([]fastInput, error) {
	out := in[:0]
	for _, i := range in {
		origin, err := (&resource.Origin{Path: filepath.Join("..", artifactDir, i.file)}).String()
		if err != nil {
			return nil, &Error{Path: i.file, Err: err}
		}
		f := annotations.Filter{
			Annotations: map[string]string{originAnnotation: origin},
			FsSlice:     []types.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}},
		}
		nodes, err := f.Filter([]*yaml.RNode{&i.res.RNode})
		if err != nil {
			return nil, &Error{Path: i.file, Err: err}
		}
		// kustomize's ResMap.ApplyFilter drops what a filter leaves empty.
		if len(nodes) == 1 && !nodes[0].IsNilOrEmpty() {
			out = append(out, i)
		}
	}
	return out, nil
}

// fastBuild renders the listed files of o.Path on the fast path, or through
// kustomize when the objects hold something the fast path leaves to it.
func fastBuild(ctx context.Context, t *tree, files []string, o Options, g *guard) ([]*unstructured.Unstructured, error) {
	// The namespace transformer asks kustomize's OpenAPI schema which kinds
	// are namespaced: hold a slot as kustomize builds do.
	release, err := gate.acquire(ctx, false)
	if err != nil {
		return nil, &Error{Path: o.Path, Err: err}
	}
	defer release()
	d, err := loadDefaults()
	if err != nil {
		return nil, &Error{Path: o.Path, Err: err}
	}
	in, err := readFast(ctx, t, o, files, g)
	if err != nil {
		return nil, err
	}
	if !fastPathHandles(in, o, d) {
		release()
		return slowBuild(ctx, t, o, g)
	}
	fastRenders.Add(1)
	return renderFast(ctx, in, o, d, g)
}

// renderFast does for the objects of a plain directory what kustomize's
// build of the generated kustomization and the Stack's overlay does, then
// substitutes and converts them as the kustomize path does.
func renderFast(ctx context.Context, in []fastInput, o Options, d kustomizeDefaults, g *guard) ([]*unstructured.Unstructured, error) {
	nodes, err := kustomizeFast(in, o, d, g)
	if err != nil {
		return nil, err
	}
	return toObjects(ctx, nodes, o, g)
}

// kustomizeFast runs kustomize's parts on in as its build would. A panic of
// those parts fails the render as on the kustomize path: the guard refuses
// the inputs known to make them panic, this keeps the agent up on the ones
// not known yet.
func kustomizeFast(in []fastInput, o Options, d kustomizeDefaults, g *guard) (nodes []*yaml.RNode, err error) {
	defer func() {
		if p := recover(); p != nil {
			nodes, err = nil, kustomizeError(o.Path, fmt.Errorf("kustomize panicked: %v", p), g.artifactRedactor())
		}
	}()
	in, err = annotateOrigins(in)
	if err != nil {
		return nil, err
	}
	if err := uniqueIDs(in, ""); err != nil {
		return nil, err
	}
	if err := transformFast(in, o, d); err != nil {
		return nil, &Error{Path: o.Path, Err: fmt.Errorf("%w: %s", ErrKustomize, g.artifactRedactor().Error(err))}
	}
	if o.TargetNamespace != "" {
		if err := uniqueIDs(in, "with the target namespace "+o.TargetNamespace+", "); err != nil {
			return nil, err
		}
	}
	rs := make([]*resource.Resource, len(in))
	for n, i := range in {
		rs[n] = i.res
	}
	kept, err := resourceFactory.DropLocalNodes(resourceNodes(rs))
	if err != nil {
		return nil, &Error{Path: o.Path, Err: fmt.Errorf("%w: %s", ErrKustomize, g.artifactRedactor().Error(err))}
	}
	return resourceNodes(kept), nil
}

// transformFast applies the Stack's namespace, labels and annotations with
// kustomize's builtin plugins, configured as kustomize's configurators do
// for the generated overlay, one object at a time, in kustomize's order.
func transformFast(in []fastInput, o Options, d kustomizeDefaults) error {
	plugins, err := fastPlugins(o, d)
	if err != nil {
		return err
	}
	for _, i := range in {
		if err := transformOne(i.res, plugins); err != nil {
			return err
		}
		// kustomize removes its build annotations from every object, and
		// so writes every annotation value back as a string.
		i.res.RemoveBuildAnnotations()
	}
	return nil
}

// transformOne applies plugins to r alone.
func transformOne(r *resource.Resource, plugins []resmap.TransformerPlugin) error {
	if len(plugins) == 0 {
		return nil
	}
	m := resmap.New()
	if err := m.Append(r); err != nil {
		return err
	}
	for _, p := range plugins {
		if err := p.Transform(m); err != nil {
			return err
		}
	}
	return nil
}

// fastPlugins configures the namespace, label and annotation transformers
// of the generated overlay as kustomize's configurators do.
func fastPlugins(o Options, d kustomizeDefaults) ([]resmap.TransformerPlugin, error) {
	var plugins []resmap.TransformerPlugin
	add := func(p resmap.TransformerPlugin, config any) error {
		y, err := sigsyaml.Marshal(config)
		if err != nil {
			return err
		}
		if err := p.Config(nil, y); err != nil {
			return err
		}
		plugins = append(plugins, p)
		return nil
	}
	if o.TargetNamespace != "" {
		var c struct {
			types.ObjectMeta `json:"metadata,omitempty" yaml:"metadata,omitempty"`
			FieldSpecs       []types.FieldSpec
		}
		c.Namespace, c.FieldSpecs = o.TargetNamespace, d.NameSpace
		if err := add(builtins.NewNamespaceTransformerPlugin(), c); err != nil {
			return nil, err
		}
	}
	if len(o.CommonLabels) > 0 {
		fss, err := types.FsSlice(nil).MergeOne(types.FieldSpec{Path: "metadata/labels", CreateIfNotPresent: true})
		if err != nil {
			return nil, err
		}
		if err := add(builtins.NewLabelTransformerPlugin(), labelConfig{Labels: o.CommonLabels, FieldSpecs: fss}); err != nil {
			return nil, err
		}
	}
	if len(o.CommonAnnotations) > 0 {
		if err := add(builtins.NewAnnotationsTransformerPlugin(), annotationConfig{Annotations: o.CommonAnnotations, FieldSpecs: d.CommonAnnotations}); err != nil {
			return nil, err
		}
	}
	return plugins, nil
}

type labelConfig struct {
	Labels     map[string]string
	FieldSpecs []types.FieldSpec
}

type annotationConfig struct {
	Annotations map[string]string
	FieldSpecs  []types.FieldSpec
}
