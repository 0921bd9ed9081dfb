package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(options) bool
		wantErr string
	}{
		{name: "defaults-are-the-published-sizes", args: nil, check: func(o options) bool {
			return o.objects == 1000 && o.revertObjects == 100 && o.edits == 100 && o.runs == 3 && o.reconciles == 5 && o.interval == 5*time.Second && o.output == "text"
		}},
		{name: "quick-shrinks-every-size", args: []string{"-quick"}, check: func(o options) bool {
			return o.objects == 60 && o.revertObjects == 10 && o.edits == 10 && o.runs == 1 && o.reconciles == 2 && o.interval == 2*time.Second
		}},
		{name: "explicit-flags-win-over-quick", args: []string{"-objects", "200", "-quick"}, check: func(o options) bool {
			return o.objects == 200 && o.edits == 10
		}},
		{name: "interval-below-the-api-minimum", args: []string{"-interval", "500ms"}, wantErr: "-interval must be at least 1s"},
		{name: "unknown-figure", args: []string{"-only", "latency"}, wantErr: `-only must be "revert" or "cost"`},
		{name: "update-needs-markdown", args: []string{"-update", "BENCHMARKS.md"}, wantErr: "-update needs -o markdown"},
		{name: "zero-runs", args: []string{"-runs", "0"}, wantErr: "-runs must be at least 1"},
		{name: "unknown-rate-limit", args: []string{"-rate-limit", "none"}, wantErr: "-rate-limit"},
		{name: "stray-argument", args: []string{"cost"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("options = %+v", o)
			}
		})
	}
}

// sampleReport is a report of two runs as the program would hold it.
func sampleReport(output string) report {
	o, _ := parseOptions([]string{"-o", output, "-runs", "2"}, io.Discard)
	ms := time.Millisecond
	cost := func(cpu float64, dryRuns float64) map[phase]harness.Cost {
		return map[phase]harness.Cost{
			phaseFirst:  {Reconciles: 1, Requests: map[harness.Verb]float64{harness.Patch: 1007, harness.DryRun: 2004}, Wall: 10.4, CPU: 2.3},
			phaseNoop:   {Reconciles: 5, Requests: map[harness.Verb]float64{}, Wall: 0.67, CPU: cpu},
			phaseForced: {Reconciles: 5, Requests: map[harness.Verb]float64{harness.DryRun: dryRuns}, Wall: 2.3, CPU: 1.5},
			phaseIdle:   {Requests: map[harness.Verb]float64{}},
		}
	}
	return report{
		o:       o,
		machine: harness.Machine{CPUs: 2, CPUModel: "Test CPU", MemBytes: 8 << 30, Kernel: "6.1", Go: "go1.26", KubeVersion: "v1.37.2", Commit: "abc1234", Date: "2026-01-02"},
		runs: []runResult{
			{revert: []time.Duration{3 * ms, 4 * ms, 9 * ms}, cost: cost(0.8, 1004)},
			{revert: []time.Duration{2 * ms, 5 * ms, 7 * ms}, cost: cost(0.6, 1004)},
		},
		elapsed: 3 * time.Minute,
	}
}

func TestReportMarkdown(t *testing.T) {
	var b strings.Builder
	if err := sampleReport("markdown").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"at commit `abc1234` on 2 CPUs (Test CPU), 8 GiB RAM, Linux 6.1, go1.26, kube-apiserver v1.37.2",
		"### Revert latency",
		"| revert latency | min of 2 runs | median of 2 runs |",
		"| p50 | 4.00 ms | 4.50 ms |",
		"| max | 7.00 ms | 8.00 ms |",
		"### Reconcile cost at 1000 objects",
		"| no-op (steady state) | 5 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 670 ms | 600 ms / 700 ms |",
		"| forced re-apply (SafetyInterval 1ns) | 5 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 1004 |",
		"| idle baseline, one interval | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | - | 0 |",
		"Reproduce: `go run ./bench/cmd/drift -only revert -revert-objects 100 -edits 100 -runs 2`",
		"Reproduce: `go run ./bench/cmd/drift -only cost -objects 1000 -namespaces 4 -reconciles 5 -interval 5s -runs 2`",
		"add `-rate-limit agent` to measure with those",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q; got:\n%s", want, out)
		}
	}
}

func TestReportTextHasNoMarkdown(t *testing.T) {
	var b strings.Builder
	if err := sampleReport("text").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "|") || strings.Contains(out, "###") {
		t.Errorf("text output holds Markdown:\n%s", out)
	}
	if !strings.Contains(out, "reproduce: go run ./bench/cmd/drift -only cost") {
		t.Errorf("text output lacks the command:\n%s", out)
	}
}
