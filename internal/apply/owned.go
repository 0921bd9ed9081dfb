package apply

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// minListed is the fewest objects of one kind in one namespace read with a
// LIST rather than one GET each: below it a LIST saves no request.
const minListed = 2

// owned holds the live copies of a set's objects that carry this Stack's
// owner labels, read with one LIST per kind and namespace instead of one
// GET per object. listed says which objects' LISTs answered: an object of
// an answered LIST that is not in it is not this Stack's (it is new, or
// someone else's), and one whose LIST failed (forbidden, kind not served
// yet) is read on its own, as if nothing was listed.
type owned struct {
	live   map[string]*unstructured.Unstructured
	listed map[string]bool
}

// get returns the listed live copy of o (nil when its LIST answered
// without it) and whether its LIST answered at all.
func (w owned) get(o ObjMetadata) (*unstructured.Unstructured, bool) {
	return w.live[o.Key()], w.listed[o.Key()]
}

// listGroup is one LIST: a kind at the set's version, in one namespace ("" is
// every namespace, for cluster-scoped kinds).
type listGroup struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// listOwned reads the live objects of metas that carry the Manager's owner
// labels, one LIST per kind and namespace holding at least minListed of
// them. A Manager without an owner lists nothing: no label selects its
// objects.
func (m *Manager) listOwned(ctx context.Context, metas []ObjMetadata) owned {
	w := owned{live: map[string]*unstructured.Unstructured{}, listed: map[string]bool{}}
	if m.opts.OwnerName == "" {
		return w
	}
	groups := map[listGroup][]ObjMetadata{}
	for _, o := range metas {
		g := listGroup{gvk: o.GroupVersionKind(), namespace: o.Namespace}
		groups[g] = append(groups[g], o)
	}
	var keys []listGroup
	for g, objs := range groups {
		if len(objs) >= minListed {
			keys = append(keys, g)
		}
	}
	var mu sync.Mutex
	_ = each(ctx, m.opts.Concurrency, keys, func(ctx context.Context, g listGroup) error {
		items, err := m.listLabelled(ctx, g)
		if err != nil {
			return nil // read one by one instead
		}
		mu.Lock()
		defer mu.Unlock()
		for _, o := range groups[g] {
			w.listed[o.Key()] = true
		}
		for i := range items {
			w.live[MetadataOf(&items[i]).Key()] = &items[i]
		}
		return nil
	})
	return w
}

// listLabelled lists the objects of g that carry the Manager's owner labels.
func (m *Manager) listLabelled(ctx context.Context, g listGroup) ([]unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(g.gvk.GroupVersion().WithKind(g.gvk.Kind + "List"))
	err := m.client.List(ctx, list, client.InNamespace(g.namespace), client.MatchingLabels{
		OwnerNameLabel:      m.opts.OwnerName,
		OwnerNamespaceLabel: m.opts.OwnerNamespace,
	})
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		// A LIST's items carry no kind of their own in some encodings.
		list.Items[i].SetGroupVersionKind(g.gvk)
	}
	return list.Items, nil
}
