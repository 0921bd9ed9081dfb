// Package stackspec says what a Stack's spec means to the engines: the
// render options its fields make, the substitution variables it gathers
// from ConfigMaps and Secrets, and its inventory as apply identities.
//
// The agent's Stack controller and the CLI verbs that render or compare
// (build, diff, plan, tree) all go through it, so a local render is exactly
// the agent's. It does not fetch sources, apply or report status.
package stackspec
