// Package stackspec says what a Stack's spec means to the engines, in one
// place: the substitution variables it gathers from ConfigMaps and Secrets
// (with the redactor of the Secret values), the render options its fields
// make, its decryption keys, the apply options and the identity it applies
// as (impersonation of spec.serviceAccountName), its inventory as apply
// identities, the prune cap (maxPrunePercent) and the empty-render guard
// (allowEmpty), and when a Stack counts as Ready at a revision.
//
// The agent's Stack controller and drift watcher, the CLI verbs that render
// or compare (build, diff, plan, tree), bootstrap, the dashboard, the demo
// and the benchmarks all go through it, so a local render or diff is exactly
// the agent's. It does not fetch sources, apply or report status.
package stackspec
