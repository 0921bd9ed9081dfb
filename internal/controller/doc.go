// Package controller holds Flotilla's reconcilers, one file per kind. Each
// Reconcile is thin: fetch the object, defer one status patch, run a fixed
// prelude (deletion, finalizer, suspend), then named steps that call the
// engines in internal/source, internal/render and internal/apply. Policy and
// mechanics live in those engines, not here.
package controller

// Leader election between agent replicas.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
