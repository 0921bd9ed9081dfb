// Package install builds the manifests that run Flotilla's agent in a
// cluster (the CRDs, the Namespace, a least-privilege ServiceAccount and its
// RBAC, and the agent Deployment) as objects, prints them as YAML, and
// applies them with the server-side apply engine of package apply.
//
// The objects are applied with the agent's own field manager and keep any
// Stack owner labels they already carry, so the root Stack that
// `flotilla bootstrap` creates can later apply the same objects from Git and
// adopt them without a conflict, and a field removed from Git is removed
// from the cluster instead of staying behind under another manager.
//
// It does not talk to Git and does not create sources or Stacks; that is
// package bootstrap.
package install
