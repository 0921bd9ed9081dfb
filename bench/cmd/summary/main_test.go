package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/bench/harness"
)

func TestSummaryWritesTheSection(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(doc, []byte("# Benchmarks\n\n## Summary\n\n<!-- summary:begin -->\nold\n<!-- summary:end -->\n\n## Apply\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hs := []harness.Headline{{Section: "Drift", Figure: "revert p99", Min: "5 ms", Median: "6 ms", Runs: 3}}
	if err := harness.WriteHeadlines(filepath.Join(dir, "h"), "drift", hs); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := run([]string{"-dir", filepath.Join(dir, "h"), "-update", doc}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	if !strings.Contains(string(b), "| revert p99 | 5 ms | 6 ms | 3 | Drift |") || strings.Contains(string(b), "old") {
		t.Errorf("BENCHMARKS.md:\n%s", b)
	}
	if !strings.Contains(out.String(), "revert p99") {
		t.Errorf("stdout: %s", out.String())
	}
}

func TestSummaryWithoutHeadlinesSaysWhatToRun(t *testing.T) {
	var out, errOut strings.Builder
	err := run([]string{"-dir", t.TempDir()}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "-headlines") {
		t.Fatalf("err = %v, want one naming -headlines", err)
	}
}
