package setters

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderKeepsTheStyleAndStaysAString(t *testing.T) {
	tests := []struct {
		name  string
		value string
		style byte
		want  string
	}{
		{"plain image reference stays plain", "ghcr.io/org/app:1.2.3", 0, "ghcr.io/org/app:1.2.3"},
		{"single quotes kept", "ghcr.io/org/app:1.2.3", '\'', "'ghcr.io/org/app:1.2.3'"},
		{"single quote inside is doubled", "it's", '\'', "'it''s'"},
		{"double quotes kept", "app:1", '"', `"app:1"`},
		{"double quote and backslash escaped", `a"b\c`, '"', `"a\"b\\c"`},
		{"a float-like tag is quoted", "1.10", 0, `"1.10"`},
		{"an integer tag is quoted", "42", 0, `"42"`},
		{"an integer with underscores is quoted", "1_000", 0, `"1_000"`},
		{"exponent is quoted", "1e10", 0, `"1e10"`},
		{"hex is quoted", "0x1F", 0, `"0x1F"`},
		{"octal is quoted", "0o17", 0, `"0o17"`},
		{"YAML 1.1 boolean yes is quoted", "yes", 0, `"yes"`},
		{"YAML 1.1 boolean ON in capitals is quoted", "ON", 0, `"ON"`},
		{"null is quoted", "null", 0, `"null"`},
		{"tilde is quoted", "~", 0, `"~"`},
		{"infinity is quoted", "-.inf", 0, `"-.inf"`},
		{"sexagesimal is quoted", "1:30", 0, `"1:30"`},
		{"empty is quoted", "", 0, `""`},
		{"leading dash is quoted", "-rc1", 0, `"-rc1"`},
		{"leading at sign is quoted", "@sha256", 0, `"@sha256"`},
		{"colon space is quoted", "a: b", 0, `"a: b"`},
		{"space hash is quoted", "a #b", 0, `"a #b"`},
		{"trailing colon is quoted", "app:", 0, `"app:"`},
		{"trailing space is quoted", "app ", 0, `"app "`},
		{"a control character is quoted", "a\x01b", 0, "\"a\x01b\""},
		{"a version with letters stays plain", "v1.2.3", 0, "v1.2.3"},
		{"a digest reference stays plain", "app:1@sha256:ab", 0, "app:1@sha256:ab"},
		{"a word that merely starts like a boolean stays plain", "yesterday", 0, "yesterday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(tt.value, tt.style); got != tt.want {
				t.Errorf("render(%q, %q) = %s, want %s", tt.value, tt.style, got, tt.want)
			}
		})
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`'app:1'`, "app:1", true},
		{`'it''s'`, "it's", true},
		{`"app:1"`, "app:1", true},
		{`"a\"b"`, `a"b`, true},
		{`"a\\b"`, `a\b`, true},
		{`"a\nb"`, "", false},
		{`"a\u0041"`, "", false},
		{`""`, "", true},
		{`''`, "", true},
	}
	for _, tt := range tests {
		got, ok := unquote(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("unquote(%s) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestQuotedEnd(t *testing.T) {
	tests := []struct {
		line string
		i    int
		end  int
		ok   bool
	}{
		{`'abc' # x`, 0, 5, true},
		{`k: 'it''s' # x`, 3, 10, true},
		{`"a\"b" rest`, 0, 6, true},
		{`"a\\" rest`, 0, 5, true},
		{`'unclosed`, 0, 0, false},
		{`"ends in escape\"`, 0, 0, false},
		{`'a''`, 0, 0, false},
	}
	for _, tt := range tests {
		end, ok := quotedEnd(tt.line, tt.i)
		if end != tt.end || ok != tt.ok {
			t.Errorf("quotedEnd(%q, %d) = %d, %v; want %d, %v", tt.line, tt.i, end, ok, tt.end, tt.ok)
		}
	}
}

const mk = ` # {"$imagepolicy": "apps:web"}`

func TestScanLineFindsTheMarkedValue(t *testing.T) {
	web := Marker{Namespace: "apps", Name: "web"}
	tests := []struct {
		name, line string
		want       scalar
	}{
		{"mapping value", "image: r/app:1" + mk, scalar{start: 7, end: 14, value: "r/app:1", marker: web}},
		{"indented", "    image: r/app:1" + mk, scalar{start: 11, end: 18, value: "r/app:1", marker: web}},
		{"sequence entry", "- r/app:1" + mk, scalar{start: 2, end: 9, value: "r/app:1", marker: web}},
		{"nested sequence dashes", "- - r/app:1" + mk, scalar{start: 4, end: 11, value: "r/app:1", marker: web}},
		{"dash then key", "  - newTag: 1.0" + mk, scalar{start: 12, end: 15, value: "1.0", marker: web}},
		{"single-quoted", "image: 'r/app:1'" + mk, scalar{start: 7, end: 16, style: '\'', value: "r/app:1", marker: web}},
		{"double-quoted key and value", `"image": "r/app:1"` + mk, scalar{start: 9, end: 18, style: '"', value: "r/app:1", marker: web}},
		{"anchor before the value", "image: &img r/app:1" + mk, scalar{start: 12, end: 19, value: "r/app:1", marker: web}},
		{"tag before the value", "image: !!str r/app:1" + mk, scalar{start: 13, end: 20, value: "r/app:1", marker: web}},
		{"tab before the comment", "image: r/app:1\t# {\"$imagepolicy\": \"apps:web:tag\"}", scalar{start: 7, end: 14, value: "r/app:1", marker: Marker{Namespace: "apps", Name: "web", Field: "tag"}}},
		{"spaces kept out of the value", "image: r/app:1    " + mk, scalar{start: 7, end: 14, value: "r/app:1", marker: web}},
		{"a hash inside a plain value is not a comment", "image: r/app#1" + mk, scalar{start: 7, end: 14, value: "r/app#1", marker: web}},
		{"a colon without a space is part of the key-less value", "- r/app:1" + mk, scalar{start: 2, end: 9, value: "r/app:1", marker: web}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(scalar{})); diff != "" {
				t.Errorf("scanLine(%q) (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestScanLineRefusals(t *testing.T) {
	tests := []struct {
		name, line, wantErr string
	}{
		{"a whole-line comment is not a marker", `# {"$imagepolicy": "apps:web"}`, "no marker"},
		{"an indented comment is not a marker", `    # {"$imagepolicy": "apps:web"}`, "no marker"},
		{"a line without $imagepolicy", "image: r/app:1 # a comment", "no marker"},
		{"blank", "   ", "no marker"},
		{"marker without a space before the hash is part of the value", `image: r/app:1#{"$imagepolicy": "apps:web"}`, "marker comment must follow the value"},
		{"the marker text inside a quoted value", `image: "r/app # {\"$imagepolicy\": \"apps:web\"}"`, "marker comment must follow the value"},
		{"flow sequence", "images: [a, b]" + mk, "flow collection"},
		{"flow mapping", "image: {name: a}" + mk, "flow collection"},
		{"literal block", "script: |" + mk, "block scalar"},
		{"folded block", "script: >-" + mk, "block scalar"},
		{"alias", "image: *img" + mk, "alias"},
		{"no value", "image:" + mk, "no value before the marker"},
		{"unterminated quote", "image: 'r/app:1" + mk, "spanning several lines"},
		{"escape other than quote or backslash", `image: "r/app\t1"` + mk, "escapes other than"},
		{"malformed marker", `image: r/app:1 # {"$imagepolicy": apps:web}`, "malformed marker"},
		{"bad field", `image: r/app:1 # {"$imagepolicy": "apps:web:version"}`, `field "version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scanLine(tt.line)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("scanLine(%q) error = %v, want one containing %q", tt.line, err, tt.wantErr)
			}
		})
	}
}

func TestBlockColumn(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"script: |", 0},
		{"  script: >-", 2},
		{"- |", 2},
		{"  - run: |2", 4},
		{"image: r/app:1", -1},
		{"# script: |", -1},
		{"", -1},
		{"key: 'a|b'", -1},
	}
	for _, tt := range tests {
		if got := blockColumn(tt.line); got != tt.want {
			t.Errorf("blockColumn(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}

func TestKeyValue(t *testing.T) {
	tests := []struct{ line, key, value string }{
		{"kind: Deployment", "kind", "Deployment"},
		{"  name: web # the web app", "name", "web"},
		{`"namespace": 'apps'`, "namespace", "apps"},
		{`name: "quoted"`, "name", "quoted"},
		{"metadata:", "metadata", ""},
		{"no colon here", "", ""},
		{`name: "`, "name", `"`},
	}
	for _, tt := range tests {
		k, v := keyValue(tt.line)
		if k != tt.key || v != tt.value {
			t.Errorf("keyValue(%q) = %q, %q; want %q, %q", tt.line, k, v, tt.key, tt.value)
		}
	}
}

func TestDocumentObjects(t *testing.T) {
	in := strings.Join([]string{
		"# leading comment",
		"apiVersion: v1",
		"kind: ConfigMap",
		"metadata:",
		"  labels:",
		"    name: not-the-name",
		"  name: settings",
		"  namespace: apps",
		"data:",
		"  name: also-not-the-name",
		"---",
		"kind: Deployment",
		"metadata:",
		"    name: four-spaces",
		"spec:",
		"  template:",
		"    metadata:",
		"      name: pod-template",
		"--- # a document with no object",
		"plain: value",
		"---",
		"metadata: {name: flow}",
		"kind: Service",
	}, "\n")
	got := documentObjects(splitLines([]byte(in)))
	want := []ObjectIdentifier{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "settings"},
		{Kind: "Deployment", Name: "four-spaces"},
		{},
		{Kind: "Service"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestSplitLinesKeepsEveryByte(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\n", []string{"a\n"}},
		{"a\r\nb\r\n", []string{"a\r\n", "b\r\n"}},
		{"a\n\nb", []string{"a\n", "\n", "b"}},
	}
	for _, tt := range tests {
		got := splitLines([]byte(tt.in))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitLines(%q) (-want +got):\n%s", tt.in, diff)
		}
		if strings.Join(got, "") != tt.in {
			t.Errorf("splitLines(%q) lost bytes", tt.in)
		}
	}
}

func TestIsDocumentStart(t *testing.T) {
	for line, want := range map[string]bool{
		"---": true, "--- # c": true, "---\t": true, "--- !tag": true,
		"----": false, " ---": false, "---x": false, "...": false,
	} {
		if got := isDocumentStart(line); got != want {
			t.Errorf("isDocumentStart(%q) = %v, want %v", line, got, want)
		}
	}
}
