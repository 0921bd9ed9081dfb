package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/filters/fieldspec"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kustomizeAnnotationPrefixes are the annotations through which an object
// asks kustomize for something (a hash suffix, a merge behaviour, local
// config, its origin...). An object that carries one goes through kustomize.
var kustomizeAnnotationPrefixes = []string{
	"config.kubernetes.io/",
	"config.k8s.io/",
	"internal.config.kubernetes.io/",
	"kustomize.config.k8s.io/",
	"alpha.config.kubernetes.io/",
}

// fastPathHandles reports whether the fast path renders these objects
// exactly as kustomize would: no object carries a kustomize annotation, and
// kustomize's name-reference fix-up has nothing to change and nothing to
// fail on.
func fastPathHandles(in []fastInput, o Options, d kustomizeDefaults) bool {
	for _, i := range in {
		for key := range i.res.GetAnnotations() {
			for _, prefix := range kustomizeAnnotationPrefixes {
				if strings.HasPrefix(key, prefix) {
					return false
				}
			}
		}
	}
	if o.TargetNamespace != "" && slices.ContainsFunc(in, idHoldsComma) {
		return false
	}
	return !nameReferencesPossible(in, o, d) && !nameReferencesMayFail(in, d)
}

// idHoldsComma reports whether the kind, name or namespace of i holds a
// comma. Kustomize records the ids an object had before its namespace
// changed in comma-separated annotations, and fails on such an id when it
// reads them back; the render goes through kustomize to fail as it does.
func idHoldsComma(i fastInput) bool {
	id := i.res.CurId()
	return strings.Contains(id.Kind+id.Name+id.Namespace, ",")
}

// nameReferencesMayFail reports whether kustomize's name-reference fix-up
// could fail on the shape of an object, whatever the names: it walks every
// referring field of every object of a referring kind, found or not, and
// fails where the path runs through a scalar ("expected sequence or mapping
// node"), where a mapping it should rename has no name, or where a list
// holds something other than names and mappings; before the walk, it
// fails where the object's metadata does not read back as its id, and on a
// RoleBinding subject it cannot read. The walk here is kustomize's own
// (fieldspec.Filter); the leaf check is that of its nameref filter. Such an
// object goes through kustomize, which fails on it.
func nameReferencesMayFail(in []fastInput, d kustomizeDefaults) bool {
	fields := map[resid.Gvk][]types.FieldSpec{}
	for _, i := range in {
		gvk := i.res.GetGvk()
		specs, ok := fields[gvk]
		if !ok {
			specs = referringFields(gvk, d)
			fields[gvk] = specs
		}
		if len(specs) > 0 && (!metaMatchesID(i.res) || !subjectsReadable(i.res)) {
			return true
		}
		for _, fs := range specs {
			fs.Gvk = gvk
			walk := fieldspec.Filter{FieldSpec: fs, SetValue: nameReferenceLeaf}
			if _, err := walk.Filter(&i.res.RNode); err != nil {
				return true
			}
		}
	}
	return false
}

// metaMatchesID reports whether the metadata of r, read back, is the id
// kustomize holds for it, as its nameref filter checks of every referrer
// before it walks the fields: an apiVersion such as "/" does not survive.
func metaMatchesID(r *resource.Resource) bool {
	meta, err := r.GetMeta()
	if err != nil {
		return false
	}
	gvk := r.GetGvk()
	return meta.APIVersion == gvk.ApiVersion() && meta.Kind == gvk.Kind && meta.Name == r.GetName() && meta.Namespace == r.GetNamespace()
}

// subjectsReadable reports whether kustomize reads the subjects of a
// RoleBinding without failing: before it fixes a RoleBinding's references it
// collects the namespaces of its ServiceAccount subjects, and it panics on a
// subject that is not a mapping or whose kind is not a string.
func subjectsReadable(r *resource.Resource) bool {
	if r.GetKind() != "RoleBinding" {
		return true
	}
	subjects, err := r.GetSlice("subjects")
	if err != nil {
		return true
	}
	for _, s := range subjects {
		subject, ok := s.(map[string]interface{})
		if !ok {
			return false
		}
		ns, hasNamespace := subject["namespace"]
		kind, hasKind := subject["kind"]
		if !hasNamespace || !hasKind {
			continue
		}
		if k, ok := kind.(string); !ok {
			return false
		} else if _, ok := ns.(string); k == "ServiceAccount" && !ok {
			return false
		}
	}
	return true
}

// referringFields returns the fields of d that kustomize's name-reference
// fix-up walks in an object of kind gvk.
func referringFields(gvk resid.Gvk, d kustomizeDefaults) []types.FieldSpec {
	var specs []types.FieldSpec
	for _, ref := range d.NameReference {
		for _, fs := range ref.Referrers {
			if gvk.IsSelected(&fs.Gvk) {
				specs = append(specs, fs)
			}
		}
	}
	return specs
}

// errNameReferenceShape is what nameReferenceLeaf returns for a field
// kustomize's nameref filter refuses.
var errNameReferenceShape = errors.New("a referring field kustomize cannot update")

// nameReferenceLeaf accepts the referring fields kustomize's nameref
// filter updates without failing: absent or null, a name, a mapping with a
// name, or a list of those.
func nameReferenceLeaf(n *yaml.RNode) error {
	if yaml.IsMissingOrNull(n) {
		return nil
	}
	switch n.YNode().Kind {
	case yaml.ScalarNode:
		return nil
	case yaml.MappingNode:
		return mappingWithName(n)
	case yaml.SequenceNode:
		for _, e := range n.Content() {
			elem := yaml.NewRNode(e)
			switch {
			case yaml.IsMissingOrNull(elem), e.Kind == yaml.ScalarNode:
			case e.Kind == yaml.MappingNode:
				if err := mappingWithName(elem); err != nil {
					return err
				}
			default:
				return errNameReferenceShape
			}
		}
		return nil
	}
	return errNameReferenceShape
}

// mappingWithName accepts a mapping with a name field, as kustomize's
// nameref filter requires of the mappings it renames.
func mappingWithName(n *yaml.RNode) error {
	name, err := n.Pipe(yaml.FieldMatcher{Name: "name"})
	if err != nil || name == nil {
		return errNameReferenceShape
	}
	return nil
}

// nameReferencesPossible reports whether kustomize's name-reference fix-up
// (FixBackReferences) could change a field: it rewrites a referring field
// only when an object of the referred kind has the name the field holds. So
// the answer is no when, for every kind kustomize treats as referable, no
// object that may refer to it holds, in any field at all, the name of an
// object of that kind. Looking at every field, not only the referring ones,
// errs on the side of kustomize.
func nameReferencesPossible(in []fastInput, o Options, d kustomizeDefaults) bool {
	names := make([]map[string]bool, len(d.NameReference))
	found := false
	for _, i := range in {
		gvk := i.res.GetGvk()
		for b, ref := range d.NameReference {
			if gvk.Kind != ref.Kind {
				continue
			}
			if names[b] == nil {
				names[b] = map[string]bool{}
			}
			names[b][i.res.GetName()] = true
			if gvk.Kind == "Namespace" && o.TargetNamespace != "" {
				names[b][o.TargetNamespace] = true // the namespace transformer renames Namespaces
			}
			found = true
		}
	}
	if !found {
		return false
	}
	referring := map[resid.Gvk][]int{}
	for _, i := range in {
		gvk := i.res.GetGvk()
		refs, ok := referring[gvk]
		if !ok {
			refs = referredKinds(gvk, d, names)
			referring[gvk] = refs
		}
		if len(refs) == 0 {
			continue
		}
		if holdsName(i.res.YNode(), refs, names) {
			return true
		}
	}
	return false
}

// referredKinds returns the indexes of the name references of d whose
// referring fields may be in an object of kind gvk, among those with objects.
func referredKinds(gvk resid.Gvk, d kustomizeDefaults, names []map[string]bool) []int {
	var refs []int
	for b, ref := range d.NameReference {
		if names[b] == nil {
			continue
		}
		for _, fs := range ref.Referrers {
			if gvk.IsSelected(&fs.Gvk) {
				refs = append(refs, b)
				break
			}
		}
	}
	return refs
}

// holdsName reports whether a scalar anywhere in n (keys included, aliases
// followed) is a name of one of the referred kinds refs.
func holdsName(n *yaml.Node, refs []int, names []map[string]bool) bool {
	if n == nil {
		return false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		for _, b := range refs {
			if names[b][n.Value] {
				return true
			}
		}
	case yaml.AliasNode:
		return holdsName(n.Alias, refs, names)
	}
	for _, c := range n.Content {
		if holdsName(c, refs, names) {
			return true
		}
	}
	return false
}

// uniqueIDs refuses two objects with one id, as kustomize's accumulator
// (and, after a namespace change, its namespace transformer) does, but with
// a map: ids are equal as kustomize's ResId.Equals says (group, version,
// kind, name, and the effective namespace: "" is "default", cluster-scoped
// kinds have none). what says which step made them equal.
func uniqueIDs(in []fastInput, what string) error {
	seen := make(map[resid.ResId]string, len(in))
	for _, i := range in {
		if i.res.IsNilOrEmpty() {
			continue
		}
		id := i.res.CurId()
		key := resid.ResId{Gvk: id.Gvk, Name: id.Name, Namespace: id.EffectiveNamespace()}
		first, dup := seen[key]
		if !dup {
			seen[key] = i.file
			continue
		}
		obj := objectName(id.Kind, id.Namespace, id.Name)
		return &Error{Path: i.file, Object: obj, Err: fmt.Errorf("%w: %w: %s%s is defined twice, in %s and in %s: remove one, or give them different names or namespaces",
			ErrKustomize, ErrDuplicate, what, id, first, i.file)}
	}
	return nil
}

// resourceNodes returns the nodes of rs.
func resourceNodes(rs []*resource.Resource) []*yaml.RNode {
	nodes := make([]*yaml.RNode, len(rs))
	for i, r := range rs {
		nodes[i] = &r.RNode
	}
	return nodes
}
