package setters

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Fields a marker can set.
const (
	// FieldImage sets the whole image reference (no suffix in the marker).
	FieldImage = ""
	// FieldTag sets the tag.
	FieldTag = "tag"
	// FieldName sets the image name, without tag.
	FieldName = "name"
	// FieldDigest sets the digest.
	FieldDigest = "digest"
)

// Marker is a parsed `{"$imagepolicy": "NAMESPACE:NAME[:FIELD]"}` comment.
type Marker struct {
	// Namespace of the ImagePolicy.
	Namespace string
	// Name of the ImagePolicy.
	Name string
	// Field is FieldImage, FieldTag, FieldName or FieldDigest.
	Field string
}

// Policy returns NAMESPACE:NAME, the key into Policies.
func (m Marker) Policy() string { return m.Namespace + ":" + m.Name }

// Setter returns the marker's reference as written, Flux's setter name.
func (m Marker) Setter() string {
	if m.Field == FieldImage {
		return m.Policy()
	}
	return m.Policy() + ":" + m.Field
}

// Value returns what the marker sets from img.
func (m Marker) Value(img Image) string {
	switch m.Field {
	case FieldTag:
		return img.Tag
	case FieldName:
		return img.Name
	case FieldDigest:
		return img.Digest
	default:
		return img.Ref()
	}
}

// markerRE matches the comment text after '#'. Flux writes exactly
// {"$imagepolicy": "ns:name"}; spacing around the JSON tokens is free.
var markerRE = regexp.MustCompile(`^\s*\{\s*"\$imagepolicy"\s*:\s*"([^"\\]*)"\s*\}\s*$`)

// ErrNotMarker means a comment is not an $imagepolicy marker.
var ErrNotMarker = errors.New("not an $imagepolicy marker")

// ParseMarker parses a comment's text (after the '#'). It returns
// ErrNotMarker for other comments, and a descriptive error for a marker whose
// reference is malformed.
func ParseMarker(comment string) (Marker, error) {
	if !strings.Contains(comment, "$imagepolicy") {
		return Marker{}, ErrNotMarker
	}
	m := markerRE.FindStringSubmatch(comment)
	if m == nil {
		return Marker{}, fmt.Errorf(`malformed marker: want # {"$imagepolicy": "NAMESPACE:NAME[:tag|:name|:digest]"}`)
	}
	parts := strings.Split(m[1], ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Marker{}, fmt.Errorf("marker reference %q is not NAMESPACE:NAME[:tag|:name|:digest]", m[1])
	}
	mk := Marker{Namespace: parts[0], Name: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case FieldTag, FieldName, FieldDigest:
			mk.Field = parts[2]
		default:
			return Marker{}, fmt.Errorf("marker reference %q: field %q is not tag, name or digest", m[1], parts[2])
		}
	}
	return mk, nil
}
