package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseOptionsQuickKeepsExplicitFlags(t *testing.T) {
	o, err := parseOptions([]string{"-quick", "-tags", "70"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.tags != 70 || o.runs != 1 || o.pageSize != 1000 {
		t.Errorf("options = %+v, want 70 tags (explicit), 1 run (quick), pages of 1000", o)
	}
}

func TestParseOptionsRefusesNonsense(t *testing.T) {
	for _, args := range [][]string{{"-runs", "0"}, {"-page-size", "0"}, {"-o", "html"}, {"-update", "BENCHMARKS.md"}, {"extra"}} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
}

func TestGenerateTagsMarksEveryTenthAsASignature(t *testing.T) {
	tags, kept := generateTags(20)
	if kept != 18 || tags[9] != "sha256-"+strings.Repeat("0", 63)+"9.sig" || tags[10] != "0.0.10" {
		t.Fatalf("kept %d, tags %q", kept, tags)
	}
}

func TestReportShowsMinMedianAndTheCommand(t *testing.T) {
	r := results{
		o:    options{tags: 10000, pageSize: 1000, runs: 2, output: "markdown"},
		kept: 9000,
		scans: []scanResult{
			{scan: 2 * time.Second, store: 10 * time.Millisecond, choose: 30 * time.Millisecond},
			{scan: 4 * time.Second, store: 20 * time.Millisecond, choose: 50 * time.Millisecond},
		},
	}
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| scan: list 10000 tags in 10 pages of 1000, exclusion list applied (9000 kept) | 2.00 s | 3.00 s |",
		"`go run ./bench/cmd/imagescan -tags 10000 -page-size 1000 -runs 2`",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if h := r.headlines(); len(h) != 1 || h[0].Min != "2.00 s" {
		t.Errorf("headlines %+v", h)
	}
}

func TestARunScansEveryTagOfARealRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this starts a registry and pushes 120 tags")
	}
	o := options{tags: 120, pageSize: 50, runs: 1, output: "text"}
	var out strings.Builder
	if err := run(context.Background(), o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "list 120 tags in 3 pages of 50, exclusion list applied (108 kept)") {
		t.Errorf("report:\n%s", out.String())
	}
}
