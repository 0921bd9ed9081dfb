// Package tagstore keeps the tags of each ImageRepository's last scan on
// the agent's disk, so an ImagePolicy can choose from them and a restarted
// agent still has them before its first new scan. Tags are stored per
// object (namespace, name and UID): a repository recreated under the same
// name, or another one scanning the same image with other credentials,
// never sees them. Reads are served from memory after the first.
//
// It is not a registry cache shared between objects, and it holds no
// credentials: only tag names.
package tagstore
