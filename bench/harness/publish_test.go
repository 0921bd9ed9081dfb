package harness

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPublishWritesStdoutHeadlinesAndSection(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(doc, []byte("## Apply\n\n<!-- apply:begin -->\nold\n<!-- apply:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Report{Section: "Apply", Write: func(w io.Writer) error { _, err := io.WriteString(w, "new figures\n"); return err },
		Headlines: []Headline{{Section: "Apply", Figure: "f", Min: "1", Median: "2", Runs: 3}}}
	var stdout strings.Builder
	if err := Publish(r, &stdout, filepath.Join(dir, "h"), doc, NewProgress(io.Discard)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	if stdout.String() != "new figures\n" || !strings.Contains(string(b), "new figures") || strings.Contains(string(b), "old") {
		t.Errorf("stdout %q, file:\n%s", stdout.String(), b)
	}
	hs, err := ReadHeadlines(filepath.Join(dir, "h"), []string{"apply"})
	if err != nil || len(hs) != 1 {
		t.Errorf("headlines %v, %v", hs, err)
	}
}
