// Package cli holds flotilla's cobra commands, one file per verb. Commands
// keep no global state: each has an Options struct, a constructor that binds
// flags to it, and a run method that tests call directly with their own
// writers. Verbs that read a cluster share KubeFlags (kube.go) and the
// printing helpers of output.go. The agent and the CLI share the engines in
// internal/.
package cli
