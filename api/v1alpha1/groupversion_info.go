// Package v1alpha1 holds Flotilla's API types, group flotilla.io, version
// v1alpha1: the sources that say where desired state comes from and the Stacks
// that render and apply it.
//
// +kubebuilder:object:generate=true
// +groupName=flotilla.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "flotilla.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme.
	SchemeBuilder = &TypeRegistry{}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// TypeRegistry collects the types of this package, kind by kind, and adds
// them to a scheme under GroupVersion. It does what controller-runtime's
// scheme.Builder did (deprecated there: an API package should depend on
// apimachinery only).
//
// +kubebuilder:object:generate=false
type TypeRegistry struct {
	builder runtime.SchemeBuilder
}

// Register adds objs to the types AddToScheme registers.
func (r *TypeRegistry) Register(objs ...runtime.Object) *TypeRegistry {
	r.builder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objs...)
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})
	return r
}

// AddToScheme adds every registered type to s.
func (r *TypeRegistry) AddToScheme(s *runtime.Scheme) error {
	return r.builder.AddToScheme(s)
}
