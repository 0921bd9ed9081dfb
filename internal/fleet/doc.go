// Package fleet computes the blast radius of a change to a fleet
// repository: for every cluster of the repository (each clusters/<name>/
// directory), the objects each of its Stacks would add, change and remove
// between two revisions, and the warnings a reviewer should read before
// merging (prunes, immutable fields, removed Namespaces and CRDs, a change
// that reaches many clusters, clusters that would fail to render).
//
// It reads Git alone, never a cluster. Every render goes through
// internal/render with the options internal/stackspec makes of the Stack,
// so what the plan shows is what the agents will apply. Values that only a
// cluster holds (a substituteFrom ConfigMap or Secret that is not in the
// repository) cannot be planned: such a Stack is reported, not guessed.
//
// Renders are shared: each render is keyed by the content of the files it
// can read (the closure of the kustomizations reachable from its path) and
// its options, and a render whose inputs did not change between the two
// revisions is reused. A Stack with postBuild variables is made from a
// shared render (shared.go): the render with a placeholder for each
// variable, run once per revision for a base shared by fifty clusters, with
// each cluster's values put in after, unless its values could render
// otherwise than as text, when it renders on its own. Clusters are planned
// in parallel.
//
// Secret values never reach a Result: Secrets are compared masked
// (redact.MaskSecretPair), so a changed Secret shows which keys changed,
// and every other value passes through the redactor of the variables the
// Stack read from Secrets.
//
// It is not the CLI (internal/cli's plan verb formats a Result with the
// writers of this package) and it does not apply anything.
package fleet
