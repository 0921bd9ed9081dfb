// Package artifact stores the tree of one source revision on local disk,
// under the agent's data directory, so that renders read files rather than
// Git objects and the last good revision survives while the remote is down.
// Artifacts are written to a staging directory and renamed into place, so a
// reader never sees half of one; each has a sha256 digest over its files.
// Ignore rules (gitignore syntax) decide which files are stored. The package
// does not fetch anything and does not know about Git.
package artifact
