// Package gitwrite commits and pushes an image update: it fetches a branch
// of a GitRepository's URL with its credentials (package source/git's), runs
// an edit (the setters) on a fresh checkout, commits the change with the
// configured author (signed with an OpenPGP key when one is given) and
// pushes it to the push branch and refspec, with push options.
//
// A Writer allows one write per repository URL and push branch at a time
// inside the process. When the server rejects a push because the branch
// moved (another automation, another cluster, a person), the writer fetches
// the new head, runs the edit again on it (not a textual rebase: the
// setters decide again what to change) and retries with backoff; after
// MaxAttempts it fails with an error naming the branch.
//
// It never runs the git binary, never writes outside its checkout (one
// kept clone per repository and push branch under the agent's data
// directory, or a temporary one), and never puts credentials in errors. It does not decide what
// to change (package setters) nor what the message says (package
// commitmsg).
package gitwrite
