package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseOptionsQuickKeepsExplicitFlags(t *testing.T) {
	o, err := parseOptions([]string{"-quick", "-clusters", "7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.clusters != 7 || o.objects != 40 || o.runs != 1 {
		t.Errorf("options = %+v, want 7 clusters (explicit), 40 objects and 1 run (quick)", o)
	}
}

func TestParseOptionsRefusesNonsense(t *testing.T) {
	for _, args := range [][]string{{"-runs", "0"}, {"-o", "html"}, {"-update", "BENCHMARKS.md"}, {"extra"}} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
}

func TestReportShowsMinMedianAndRatio(t *testing.T) {
	r := results{
		o:          options{clusters: 50, objects: 200, runs: 3, output: "markdown"},
		plans:      []planResult{{wall: 2 * time.Second, changed: 50, total: 50, builds: 52, reused: 50, substituted: 100}, {wall: 3 * time.Second}, {wall: 4 * time.Second}},
		kustomize:  []time.Duration{8 * time.Second, 9 * time.Second, 12 * time.Second},
		kustomizeN: 300,
	}
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| flotilla plan (52 renders, 50 reused, 100 substituted) | 2.00 s | 3.00 s |",
		"| kustomize build x 300, one after another | 8.00 s | 9.00 s |",
		"| ratio (kustomize / plan) | 4.0x | 3.0x |",
		"`go run ./bench/cmd/plan -clusters 50 -objects 200 -runs 3`",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
