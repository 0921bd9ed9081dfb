// Package apply is Flotilla's server-side apply engine, a library shared by
// the agent, `flotilla diff`, `flotilla plan` and the benchmarks. Given the
// rendered objects of one Stack it validates the whole set with a server-side
// dry-run before anything is written, applies in ordered stages (CRDs,
// Namespaces and cluster-wide RBAC first, then the rest) with bounded
// parallelism, skips objects the dry-run shows unchanged, recreates on an
// immutable-field change only when asked to, prunes what left the inventory
// in reverse order, and waits for health with kstatus. It returns plain data
// (a ChangeSet) and typed errors that name each object. It knows nothing of
// Stacks, Git or rendering.
package apply
