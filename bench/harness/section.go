package harness

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReplaceSection returns doc with the lines between the marker lines begin
// and end replaced by body. When doc has neither marker it appends heading,
// begin, body and end; a doc with one marker only, or with end before
// begin, is an error, so a hand-edited file is never half overwritten.
func ReplaceSection(doc, heading, begin, end, body string) (string, error) {
	body = strings.TrimRight(body, "\n") + "\n"
	b, e := markerLine(doc, begin), markerLine(doc, end)
	switch {
	case b < 0 && e < 0:
		doc = strings.TrimRight(doc, "\n")
		if doc != "" {
			doc += "\n\n"
		}
		return doc + heading + "\n\n" + begin + "\n" + body + end + "\n", nil
	case b < 0 || e < 0:
		return "", fmt.Errorf("only one of the markers %q and %q is present", begin, end)
	case e < b:
		return "", fmt.Errorf("marker %q comes before %q", end, begin)
	}
	start := b + strings.IndexByte(doc[b:], '\n') + 1 // the line after begin
	return doc[:start] + body + doc[e:], nil
}

// markerLine returns the offset of the line that is exactly marker, or -1.
func markerLine(doc, marker string) int {
	off := 0
	for line := range strings.SplitAfterSeq(doc, "\n") {
		if strings.TrimRight(line, "\r\n") == marker {
			return off
		}
		off += len(line)
	}
	return -1
}

// UpdateSection rewrites the section called name (heading "## name",
// markers "<!-- key:begin -->" and "<!-- key:end -->" with key the lower
// case name) of the Markdown file at path with body, creating the file or
// appending the section when they are missing.
func UpdateSection(path, name, body string) error {
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	key := strings.ToLower(name)
	next, err := ReplaceSection(string(doc), "## "+name, "<!-- "+key+":begin -->", "<!-- "+key+":end -->", body)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(next), 0o644)
}
