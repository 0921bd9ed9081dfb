package setters

import (
	"errors"
	"regexp"
	"strings"
)

// scalar is the marked value found on one line: line[start:end] holds it
// as written (with its quotes).
type scalar struct {
	start, end int
	style      byte // 0 (plain), '\'' or '"'
	value      string
	marker     Marker
}

// errNoMarker means the line has no marker comment (not a warning).
var errNoMarker = errors.New("no marker")

// scanLine finds the marked scalar on one line (without its line end).
func scanLine(line string) (scalar, error) {
	i := skipSpaces(line, 0)
	if i == len(line) || line[i] == '#' || !strings.Contains(line[i:], "$imagepolicy") {
		return scalar{}, errNoMarker
	}
	_, i = valueStart(line)
	s, err := scanValue(line, i)
	if err != nil {
		return s, err
	}
	rest := line[s.end:]
	trimmed := strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(trimmed, "#") || len(trimmed) == len(rest) {
		return scalar{}, errors.New("marker comment must follow the value on the same line")
	}
	m, err := ParseMarker(trimmed[1:])
	if err != nil {
		return scalar{}, err
	}
	s.marker = m
	return s, nil
}

// valueStart skips indentation, sequence dashes, a mapping key, anchors and
// tags; it returns the column of the key (or value) and where the value
// starts.
func valueStart(line string) (keyCol, i int) {
	i = skipSpaces(line, 0)
	for i < len(line) && line[i] == '-' && (i+1 == len(line) || isSpace(line[i+1])) {
		i = skipSpaces(line, i+1)
	}
	keyCol = i
	return keyCol, skipProperties(line, skipKey(line, i))
}

// blockColumn returns the key's column when the line's value starts a block
// scalar (| or >), whose lines follow more indented; otherwise -1.
func blockColumn(line string) int {
	if i := skipSpaces(line, 0); i == len(line) || line[i] == '#' {
		return -1
	}
	col, i := valueStart(line)
	if i < len(line) && (line[i] == '|' || line[i] == '>') {
		return col
	}
	return -1
}

// skipKey skips a "key:" mapping key (plain or quoted) and the spaces
// after it; without a key it returns i.
func skipKey(line string, i int) int {
	if i < len(line) && (line[i] == '"' || line[i] == '\'') {
		end, ok := quotedEnd(line, i)
		if ok && end < len(line) && line[end] == ':' && (end+1 == len(line) || isSpace(line[end+1])) {
			return skipSpaces(line, end+1)
		}
		return i
	}
	for j := i; j < len(line); j++ {
		if line[j] == '#' && j > i && isSpace(line[j-1]) {
			return i // a comment before any key indicator
		}
		if line[j] == ':' && (j+1 == len(line) || isSpace(line[j+1])) {
			return skipSpaces(line, j+1)
		}
	}
	return i
}

// skipProperties skips anchors (&a) and tags (!!str) before a value.
func skipProperties(line string, i int) int {
	for i < len(line) && (line[i] == '&' || line[i] == '!') {
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		i = skipSpaces(line, j)
	}
	return i
}

// scanValue reads the scalar starting at i.
func scanValue(line string, i int) (scalar, error) {
	if i >= len(line) || line[i] == '#' {
		return scalar{}, errors.New("no value before the marker")
	}
	switch line[i] {
	case '[', '{':
		return scalar{}, errors.New("a flow collection before a marker is not supported; write the value as a block entry")
	case '|', '>':
		return scalar{}, errors.New("a block scalar before a marker is not supported")
	case '*':
		return scalar{}, errors.New("an alias before a marker is not supported; mark the anchored value instead")
	case '"', '\'':
		end, ok := quotedEnd(line, i)
		if !ok {
			return scalar{}, errors.New("a quoted value spanning several lines before a marker is not supported")
		}
		v, ok := unquote(line[i:end])
		if !ok {
			return scalar{}, errors.New("a double-quoted value with escapes other than \\\" and \\\\ is not supported")
		}
		return scalar{start: i, end: end, style: line[i], value: v}, nil
	}
	end := i
	for end < len(line) && !(line[end] == '#' && isSpace(line[end-1])) {
		end++
	}
	for end > i && isSpace(line[end-1]) {
		end--
	}
	return scalar{start: i, end: end, value: line[i:end]}, nil
}

// quotedEnd returns the index after the closing quote of the scalar
// starting at line[i].
func quotedEnd(line string, i int) (int, bool) {
	q := line[i]
	for j := i + 1; j < len(line); j++ {
		switch {
		case q == '"' && line[j] == '\\':
			j++
		case line[j] == q && q == '\'' && j+1 < len(line) && line[j+1] == '\'':
			j++
		case line[j] == q:
			return j + 1, true
		}
	}
	return 0, false
}

// unquote decodes a quoted scalar; only the escapes an image reference can
// need are accepted.
func unquote(s string) (string, bool) {
	inner := s[1 : len(s)-1]
	if s[0] == '\'' {
		return strings.ReplaceAll(inner, "''", "'"), true
	}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' {
			if i+1 >= len(inner) || (inner[i+1] != '"' && inner[i+1] != '\\') {
				return "", false
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}

// render writes v in the style of the value it replaces: quoted as the old
// one was, plain when that stays a string in YAML, double-quoted otherwise.
func render(v string, style byte) string {
	switch {
	case style == '\'':
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case style == '"' || !plainSafe(v):
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	return v
}

// nonString matches plain scalars YAML 1.1 or 1.2 would read as a number,
// boolean or null.
var nonString = regexp.MustCompile(`^(?i:[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?0x[0-9a-f_]+|[-+]?0o?[0-7_]+|[-+]?0b[01_]+|[-+]?\.inf|\.nan|y|n|yes|no|true|false|on|off|null|~|[0-9]+(:[0-5]?[0-9])+(\.[0-9_]*)?)$`)

// plainSafe reports whether v can be written as a plain scalar and read
// back as the same string.
func plainSafe(v string) bool {
	if v == "" || nonString.MatchString(v) || strings.ContainsAny(v[:1], "-?:,[]{}#&*!|>'\"%@` \t") {
		return false
	}
	if isSpace(v[len(v)-1]) || strings.Contains(v, ": ") || strings.Contains(v, " #") || strings.HasSuffix(v, ":") {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }
