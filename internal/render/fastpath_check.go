package render

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/api/resource"
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
// kustomize's name-reference fix-up has nothing to change.
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
	return !nameReferencesPossible(in, o, d)
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
