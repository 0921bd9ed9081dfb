package setters

import (
	"bytes"
	"errors"
	"strings"
)

// FileChange is one change in a file, with where it was made.
type FileChange struct {
	Change
	// Object is the document's object.
	Object ObjectIdentifier
	// Line is 1-based.
	Line int
	// Offset is the byte offset of the old value (with its quotes) in the
	// input; OldLen is its length as written and NewText what replaced it.
	Offset, OldLen int
	// NewText is the new value as written (with quotes when needed).
	NewText string
}

// SetFile rewrites the marked values of one YAML file. name is only used in
// warnings. Bytes outside the marked values are copied unchanged.
func SetFile(name string, content []byte, policies Policies) ([]byte, []FileChange, []Warning) {
	lines := splitLines(content)
	objects := documentObjects(lines)
	var (
		out      bytes.Buffer
		changes  []FileChange
		warnings []Warning
		offset   int
		doc      int
		block    = -1
	)
	out.Grow(len(content))
	for n, raw := range lines {
		text := strings.TrimRight(raw, "\r\n")
		switch {
		case block >= 0 && inBlock(text, block):
			// a line of a block scalar's content: never a marker
		case isDocumentStart(text):
			doc++
			block = -1
		default:
			block = blockColumn(text)
			if c, w, ok := setLine(name, n+1, text, policies); ok {
				c.Object, c.Offset = objects[doc], offset+c.Offset
				changes = append(changes, c)
				raw = text[:c.Offset-offset] + c.NewText + raw[c.Offset-offset+c.OldLen:]
			} else if w != nil {
				warnings = append(warnings, *w)
			}
		}
		out.WriteString(raw)
		offset += len(lines[n])
	}
	return out.Bytes(), changes, warnings
}

// setLine applies the marker of one line; ok is false when nothing changed,
// with a warning when a marker was skipped.
func setLine(file string, line int, text string, policies Policies) (FileChange, *Warning, bool) {
	s, err := scanLine(text)
	if errors.Is(err, errNoMarker) {
		return FileChange{}, nil, false
	}
	if err != nil {
		return FileChange{}, &Warning{File: file, Line: line, Reason: err.Error()}, false
	}
	setter := s.marker.Setter()
	img, ok := policies[s.marker.Policy()]
	if !ok {
		return FileChange{}, &Warning{File: file, Line: line, Setter: setter,
			Reason: "marker names ImagePolicy " + s.marker.Policy() + ", which this update does not select (or which has no latest image yet)"}, false
	}
	v := s.marker.Value(img)
	if v == "" {
		return FileChange{}, &Warning{File: file, Line: line, Setter: setter,
			Reason: "ImagePolicy " + s.marker.Policy() + " has no " + s.marker.Field + " to set (digest reflection is off?)"}, false
	}
	if v == s.value {
		return FileChange{}, nil, false
	}
	return FileChange{
		Change: Change{OldValue: s.value, NewValue: v, Setter: setter},
		Line:   line, Offset: s.start, OldLen: s.end - s.start, NewText: render(v, s.style),
	}, nil, true
}

// splitLines splits after each '\n', keeping line ends (LF or CRLF) and a
// last line without one.
func splitLines(content []byte) []string {
	s := string(content)
	var lines []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// inBlock reports whether text belongs to a block scalar whose key is at
// column col: blank, or indented more than the key.
func inBlock(text string, col int) bool {
	return strings.TrimSpace(text) == "" || skipSpaces(text, 0) > col
}

func isDocumentStart(text string) bool {
	return text == "---" || strings.HasPrefix(text, "--- ") || strings.HasPrefix(text, "---\t")
}

// documentObjects reads apiVersion, kind and metadata's name and namespace
// of each document (index 0 is before the first ---) from top-level lines.
func documentObjects(lines []string) []ObjectIdentifier {
	objs := []ObjectIdentifier{{}}
	inMeta, metaIndent := false, -1
	for _, raw := range lines {
		text := strings.TrimRight(raw, "\r\n")
		cur := &objs[len(objs)-1]
		indent := skipSpaces(text, 0)
		switch {
		case isDocumentStart(text):
			objs, inMeta = append(objs, ObjectIdentifier{}), false
		case indent == len(text) || text[indent] == '#':
		case indent == 0:
			key, val := keyValue(text)
			inMeta, metaIndent = key == "metadata" && val == "", -1
			switch key {
			case "apiVersion":
				cur.APIVersion = val
			case "kind":
				cur.Kind = val
			}
		case inMeta:
			if metaIndent < 0 {
				metaIndent = indent
			}
			if indent != metaIndent {
				continue
			}
			switch key, val := keyValue(text); key {
			case "name":
				cur.Name = val
			case "namespace":
				cur.Namespace = val
			}
		}
	}
	return objs
}

// keyValue splits a simple "key: value # comment" line.
func keyValue(text string) (string, string) {
	text = strings.TrimSpace(text)
	k, v, ok := strings.Cut(text, ":")
	if !ok {
		return "", ""
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return strings.Trim(k, `"'`), v
}
