package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	begin = "<!-- drift:begin -->"
	end   = "<!-- drift:end -->"
)

func TestReplaceSection(t *testing.T) {
	tests := []struct {
		name, doc, body, want string
		wantErr               bool
	}{
		{
			name: "replaces-between-markers-and-keeps-the-rest",
			doc:  "# Benchmarks\n\n## Drift\n\n" + begin + "\nold\nlines\n" + end + "\n\n## Other\n\nkept\n",
			body: "new\n",
			want: "# Benchmarks\n\n## Drift\n\n" + begin + "\nnew\n" + end + "\n\n## Other\n\nkept\n",
		},
		{
			name: "empty-section",
			doc:  begin + "\n" + end + "\n",
			body: "x",
			want: begin + "\nx\n" + end + "\n",
		},
		{
			name: "appends-when-no-markers",
			doc:  "# Benchmarks\n\nintro\n\n\n",
			body: "new\n",
			want: "# Benchmarks\n\nintro\n\n## Drift\n\n" + begin + "\nnew\n" + end + "\n",
		},
		{
			name: "creates-in-an-empty-file",
			doc:  "",
			body: "new",
			want: "## Drift\n\n" + begin + "\nnew\n" + end + "\n",
		},
		{
			name: "marker-inside-a-line-is-not-a-marker",
			doc:  "see `" + begin + "`\n",
			body: "new",
			want: "see `" + begin + "`\n\n## Drift\n\n" + begin + "\nnew\n" + end + "\n",
		},
		{name: "begin-without-end", doc: begin + "\nx\n", wantErr: true},
		{name: "end-before-begin", doc: end + "\n" + begin + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceSection(tt.doc, "## Drift", begin, end, tt.body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestReplaceSectionIsIdempotent(t *testing.T) {
	once, err := ReplaceSection("# B\n", "## Drift", begin, end, "body\n")
	if err != nil {
		t.Fatal(err)
	}
	twice, err := ReplaceSection(once, "## Drift", begin, end, "body\n")
	if err != nil || twice != once {
		t.Errorf("second replace changed the document: %q, %v", twice, err)
	}
}

func TestUpdateSectionCreatesThenReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := UpdateSection(path, "Plan", "first\n"); err != nil {
		t.Fatal(err)
	}
	if err := UpdateSection(path, "Plan", "second\n"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "first") || strings.Count(got, "second") != 1 ||
		!strings.Contains(got, "## Plan\n") || !strings.Contains(got, "<!-- plan:begin -->\nsecond\n<!-- plan:end -->") {
		t.Errorf("BENCHMARKS.md =\n%s", got)
	}
}

func TestProgressStampsLines(t *testing.T) {
	var b strings.Builder
	NewProgress(&b).Printf("run %d of %d", 1, 3)
	if got := b.String(); !strings.HasPrefix(got, "[") || !strings.HasSuffix(got, "s] run 1 of 3\n") {
		t.Errorf("line = %q", got)
	}
}
