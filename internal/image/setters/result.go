package setters

import (
	"fmt"
	"sort"
)

// Image is what a policy chose.
type Image struct {
	// Name is the image's repository, without tag.
	Name string
	// Tag is the chosen tag.
	Tag string
	// Digest is the tag's digest ("sha256:..."), when reflected.
	Digest string
}

// Ref returns name:tag, with @digest when there is one: the value of a
// whole-image marker.
func (i Image) Ref() string {
	s := i.Name + ":" + i.Tag
	if i.Digest != "" {
		s += "@" + i.Digest
	}
	return s
}

// Policies maps a marker's "NAMESPACE:NAME" to the image its policy chose.
type Policies map[string]Image

// Change is one rewritten value, with Flux's field names.
type Change struct {
	// OldValue is the value before the rewrite.
	OldValue string
	// NewValue is the value written.
	NewValue string
	// Setter is the marker's policy reference, e.g. "apps:podinfo:tag".
	Setter string
}

// ObjectIdentifier names the Kubernetes object a change was made in, as
// read from its YAML document (empty fields when the document has none).
type ObjectIdentifier struct {
	// APIVersion of the object.
	APIVersion string
	// Kind of the object.
	Kind string
	// Namespace of the object.
	Namespace string
	// Name of the object.
	Name string
}

// String returns Kind/Namespace/Name, leaving out empty parts.
func (o ObjectIdentifier) String() string {
	s := o.Kind + "/"
	if o.Namespace != "" {
		s += o.Namespace + "/"
	}
	return s + o.Name
}

// ObjectChanges are the changes of each object.
type ObjectChanges map[ObjectIdentifier][]Change

// Result is what a run changed, shaped as Flux's template data .Changed:
// .FileChanges by file (relative to the repository root) and object,
// .Objects and .Changes across files.
type Result struct {
	// FileChanges holds the changes by file, then by object.
	FileChanges map[string]ObjectChanges
}

// Objects returns the changes by object, across files.
func (r Result) Objects() ObjectChanges {
	out := ObjectChanges{}
	for _, file := range r.Files() {
		for obj, changes := range r.FileChanges[file] {
			out[obj] = append(out[obj], changes...)
		}
	}
	return out
}

// Changes returns every change, ordered by file and then object.
func (r Result) Changes() []Change {
	var out []Change
	for _, file := range r.Files() {
		objs := r.FileChanges[file]
		keys := make([]ObjectIdentifier, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			out = append(out, objs[k]...)
		}
	}
	return out
}

// Files returns the changed files in order.
func (r Result) Files() []string {
	files := make([]string, 0, len(r.FileChanges))
	for f := range r.FileChanges {
		files = append(files, f)
	}
	sort.Strings(files)
	return files
}

// Empty reports whether nothing changed.
func (r Result) Empty() bool { return len(r.FileChanges) == 0 }

func (r *Result) add(file string, obj ObjectIdentifier, c Change) {
	if r.FileChanges == nil {
		r.FileChanges = map[string]ObjectChanges{}
	}
	if r.FileChanges[file] == nil {
		r.FileChanges[file] = ObjectChanges{}
	}
	r.FileChanges[file][obj] = append(r.FileChanges[file][obj], c)
}

// Warning is a marker that was left alone, and why.
type Warning struct {
	// File is relative to the repository root.
	File string
	// Line is 1-based.
	Line int
	// Setter is the marker's policy reference, when it parsed.
	Setter string
	// Reason says why the marker was skipped.
	Reason string
}

// String returns file:line: reason.
func (w Warning) String() string {
	return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Reason)
}
