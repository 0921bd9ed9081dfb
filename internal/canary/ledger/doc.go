// Package ledger is the rollout ledger of progressive delivery, and the
// rollback of a failed canary's image in Git.
//
// The ledger writes every phase change and analysis step of a Canary as a
// line of the Git note of the commit the cluster runs, under
// refs/notes/flotilla, in the layout `git notes` itself uses: a chain of
// commits on refs/notes/flotilla whose tree maps the annotated commit's
// hex name (at the root, or under the two-character fanout directories a
// note already sits in) to a blob. `git log --notes=flotilla` shows the
// lines beside the commit. Each line is a readable summary, a tab, and the
// JSON of a canary.LedgerEntry (see Format), so `flotilla rollout history`
// reads them back; lines of other tools are kept and skipped.
//
// The commit and the repository are resolved through the cluster: the
// Stack that applied the Canary (its stack.flotilla.io labels, checked
// against the Stack's inventory), the Stack's last applied revision, and
// the GitRepository of its sourceRef with that repository's credentials.
// Only refs/notes/flotilla is ever fetched and pushed, never a branch: an
// append fetches the notes, adds its lines to the commit's note (keeping
// every other line, of other Canaries and other clusters), commits and
// pushes; a rejected push (another cluster wrote meanwhile) is fetched and
// applied again, with bounded backoff, so concurrent writers lose nothing.
//
// Rollback quarantines a failed canary's tag in the ImagePolicies that
// chose it (status.quarantinedTags); the ImagePolicy controller then moves
// back to the best remaining tag and the ImageUpdate writes it into Git.
//
// It never runs the git binary, never puts credentials in errors, and
// does not decide when to write (package canary's state machine does).
package ledger
