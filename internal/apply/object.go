package apply

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjMetadata identifies one object.
type ObjMetadata struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// MetadataOf returns the identity of u.
func MetadataOf(u *unstructured.Unstructured) ObjMetadata {
	gvk := u.GroupVersionKind()
	return ObjMetadata{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// GroupKind returns the object's group and kind.
func (m ObjMetadata) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: m.Group, Kind: m.Kind}
}

// GroupVersionKind returns the object's group, version and kind.
func (m ObjMetadata) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: m.Group, Version: m.Version, Kind: m.Kind}
}

// Key identifies the object independently of its API version.
func (m ObjMetadata) Key() string {
	return m.Group + "/" + m.Kind + "/" + m.Namespace + "/" + m.Name
}

// String names the object as kubectl does: Kind/namespace/name or Kind/name.
func (m ObjMetadata) String() string {
	if m.Namespace == "" {
		return fmt.Sprintf("%s/%s", m.Kind, m.Name)
	}
	return fmt.Sprintf("%s/%s/%s", m.Kind, m.Namespace, m.Name)
}

// Unstructured returns an empty object with this identity, for Get and Delete.
func (m ObjMetadata) Unstructured() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(m.GroupVersionKind())
	u.SetNamespace(m.Namespace)
	u.SetName(m.Name)
	return u
}

// Diff returns the entries of old whose Key is not in current: what a prune removes.
func Diff(old, current []ObjMetadata) []ObjMetadata {
	keep := make(map[string]bool, len(current))
	for _, m := range current {
		keep[m.Key()] = true
	}
	var stale []ObjMetadata
	for _, m := range old {
		if !keep[m.Key()] {
			stale = append(stale, m)
		}
	}
	return stale
}
