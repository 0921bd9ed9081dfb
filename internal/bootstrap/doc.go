// Package bootstrap connects a cluster to a fleet repository: it installs
// the agent (package install), stores the Git credentials in a Secret,
// creates the GitRepository and the root Stack of the cluster's directory,
// and, when that directory does not exist on the branch yet, commits the
// agent's own manifests and the sync objects there and pushes them, so the
// agent manages itself from Git from then on.
//
// Run is idempotent and callable in-process (the demo bootstraps three
// clusters with it): no globals, no prompts, no os.Exit; progress goes to a
// callback. Credentials never reach a progress line, an error, or a file
// that is committed.
package bootstrap
