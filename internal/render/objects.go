package render

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// originAnnotation is where kustomize records the file an object came from.
const originAnnotation = "config.kubernetes.io/origin"

// objectKey identifies an object in a cluster.
type objectKey struct {
	group, kind, namespace, name string
}

// converter turns kustomize's output into objects: it substitutes, converts
// and refuses duplicates.
type converter struct {
	o          Options
	keepOrigin bool
	redactor   *redact.Redactor
	seen       map[objectKey]string // -> the file the first one came from
}

func toObjects(ctx context.Context, nodes []*yaml.RNode, o Options, g *guard) ([]*unstructured.Unstructured, error) {
	c := &converter{
		o:          o,
		keepOrigin: slices.Contains(g.buildMetadata, types.OriginAnnotations),
		redactor:   g.redactor(o),
		seen:       map[objectKey]string{},
	}
	out := make([]*unstructured.Unstructured, 0, len(nodes))
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Path: o.Path, Err: err}
		}
		u, err := c.convert(n)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// convert substitutes in one object and turns it into an Unstructured.
func (c *converter) convert(n *yaml.RNode) (*unstructured.Unstructured, error) {
	origin, err := c.takeOrigin(n)
	if err != nil {
		return nil, err
	}
	id := objectName(n.GetKind(), n.GetNamespace(), n.GetName())
	if isSopsObject(n) && !decryptionDisabled(n.GetAnnotations()) {
		return nil, &Error{Path: origin, Object: id, Err: fmt.Errorf("%w: %s is still SOPS-encrypted after the build "+
			"(it came through a field that is not decrypted, such as a patch): keep encrypted objects in resources", ErrDecryption, id)}
	}
	if !substitutionDisabled(n) {
		if err := substitute(n, c.o.Substitute); err != nil {
			return nil, &Error{Path: origin, Object: id, Err: err}
		}
	}
	u, err := c.unstructured(n)
	if err != nil {
		return nil, &Error{Path: origin, Object: id, Err: err}
	}
	return u, c.unique(u, origin)
}

// unstructured converts n, going through JSON so that numbers become int64
// and float64 as the apimachinery expects. Messages are masked: a parser
// may quote the content.
func (c *converter) unstructured(n *yaml.RNode) (*unstructured.Unstructured, error) {
	data, err := n.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: the object cannot be encoded after substitution: %s", ErrInvalidSubstitution, c.redactor.Error(err))
	}
	var m map[string]interface{}
	if err := utiljson.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: the object cannot be decoded after substitution: %s", ErrInvalidSubstitution, c.redactor.Error(err))
	}
	u := &unstructured.Unstructured{Object: m}
	if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
		return nil, fmt.Errorf("%w: the object has no apiVersion, kind or metadata.name: every object needs all three", ErrInvalidYAML)
	}
	return u, nil
}

// unique refuses a second object with the identity of an earlier one.
func (c *converter) unique(u *unstructured.Unstructured, origin string) error {
	gvk := u.GroupVersionKind()
	key := objectKey{group: gvk.Group, kind: gvk.Kind, namespace: u.GetNamespace(), name: u.GetName()}
	first, dup := c.seen[key]
	if !dup {
		c.seen[key] = origin
		return nil
	}
	id := objectName(gvk.Kind, u.GetNamespace(), u.GetName())
	if gvk.Group != "" {
		id = objectName(gvk.Kind+"."+gvk.Group, u.GetNamespace(), u.GetName())
	}
	return &Error{Path: origin, Object: id, Err: fmt.Errorf("%w: %s is defined twice, in %s and in %s: remove one, or give them different names or namespaces",
		ErrDuplicate, id, describeOrigin(first), describeOrigin(origin))}
}

// takeOrigin reads the origin annotation that the overlay asked kustomize
// for, and returns the file relative to the artifact root. The annotation is
// removed, or, when the user's own buildMetadata asked for it, kept with
// paths relative to the rendered path as a plain kustomize build gives them.
func (c *converter) takeOrigin(n *yaml.RNode) (string, error) {
	raw, ok := n.GetAnnotations()[originAnnotation]
	if !ok {
		return "", nil
	}
	var origin map[string]interface{}
	if err := yaml.Unmarshal([]byte(raw), &origin); err != nil {
		origin = nil
	}
	file := artifactRel(stringField(origin, "path"))
	if file == "" {
		file = artifactRel(stringField(origin, "configuredIn"))
	}
	if c.keepOrigin {
		return file, c.rewriteOrigin(n, origin)
	}
	if _, err := n.Pipe(yaml.ClearAnnotation(originAnnotation)); err != nil {
		return file, err
	}
	return file, yaml.ClearEmptyAnnotations(n)
}

func (c *converter) rewriteOrigin(n *yaml.RNode, origin map[string]interface{}) error {
	for _, field := range []string{"path", "configuredIn"} {
		if p := artifactRel(stringField(origin, field)); p != "" {
			if rel, err := filepath.Rel(c.o.Path, p); err == nil {
				origin[field] = rel
			}
		}
	}
	data, err := yaml.Marshal(origin)
	if err != nil {
		return err
	}
	return n.PipeE(yaml.SetAnnotation(originAnnotation, string(data)))
}

// artifactRel turns a path relative to the overlay directory into one
// relative to the artifact root.
func artifactRel(p string) string {
	prefix := filepath.Join("..", artifactDir)
	if p == "" || (p != prefix && !strings.HasPrefix(p, prefix+"/")) {
		return p
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, prefix), "/")
}

func stringField(m map[string]interface{}, key string) string {
	s, _ := m[key].(string)
	return s
}

func describeOrigin(file string) string {
	if file == "" {
		return "a generated object"
	}
	return file
}

// objectName is "Kind namespace/name", or "Kind name" for a cluster-scoped object.
func objectName(kind, namespace, name string) string {
	if namespace == "" {
		return kind + " " + name
	}
	return kind + " " + namespace + "/" + name
}
