// Package cli holds flotilla's cobra commands, one file per verb. Commands
// keep no global state: each has an Options struct, a constructor that binds
// flags to it, and a run method that tests call directly with their own
// writers. A verb file holds its verb only; what several verbs share lives
// in files named for what it provides: KubeFlags and named reads (kube.go),
// the kinds the verbs accept (kinds.go), an object's Ready state (state.go),
// tables, cells and -o json|yaml (output.go), a change set's report
// (changes.go), a Stack's render from a checkout (stackrender.go,
// checkout.go, decryption.go, redaction.go), the wait for a reconcile
// (wait.go), the request promote and abort send (canaryrequest.go), flags
// install and bootstrap share (installflags.go), a command group's help
// (commands.go). The agent and the CLI share the engines in internal/.
package cli
