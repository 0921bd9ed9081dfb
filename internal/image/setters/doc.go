// Package setters rewrites the image references that Flux-style markers
// point at in YAML files: a line comment `# {"$imagepolicy": "NS:NAME"}`
// sets the whole image (name:tag, or name:tag@digest when the policy
// reflects digests), and the `NS:NAME:tag`, `NS:NAME:name` and
// `NS:NAME:digest` forms set one part of it, for example the newName,
// newTag and digest fields of a kustomization's images entries.
//
// The rewrite is line-oriented, not a YAML round trip: only the bytes of the
// marked scalar change, and every other byte of the file (comments, anchors,
// key order, indentation, quoting of other values, CRLF line ends, a missing
// final newline) stays as it was. A marked value may be a plain, a
// single-quoted or a double-quoted scalar on the marker's line, after a
// mapping key and/or sequence dashes, anchors and tags. Flow collections,
// block scalars, aliases and multi-line scalars before a marker are not
// rewritten; each gets a [Warning] naming the file and line, as does a marker
// naming a policy that is not given. Lines inside a block scalar (a
// ConfigMap's embedded file, say) are never rewritten.
//
// The result ([Result]) has Flux's shape for commit message templates:
// FileChanges by file and object, Objects and Changes. This package does not
// talk to Git or the API server; package gitwrite commits what it writes.
package setters
