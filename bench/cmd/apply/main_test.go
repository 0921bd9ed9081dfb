package main

import (
	"io"
	"slices"
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
		{name: "defaults-are-the-published-sizes", check: func(o options) bool {
			return slices.Equal(o.objects, []int{100, 1000, 5000, 10000}) && o.noopObjects == 1000 && o.runs == 3 && o.timeout == 10*time.Minute && o.rateLimit == rateLimitBench && o.output == "text"
		}},
		{name: "quick-is-100-objects-once", args: []string{"-quick"}, check: func(o options) bool {
			return slices.Equal(o.objects, []int{100}) && o.noopObjects == 100 && o.runs == 1
		}},
		{name: "explicit-flags-win-over-quick", args: []string{"-quick", "-objects", "300"}, check: func(o options) bool {
			return slices.Equal(o.objects, []int{300}) && o.runs == 1
		}},
		{name: "sizes-with-spaces", args: []string{"-objects", "100, 5000"}, check: func(o options) bool {
			return slices.Equal(o.objects, []int{100, 5000})
		}},
		{name: "size-not-a-number", args: []string{"-objects", "100,many"}, wantErr: `"many" is not a number`},
		{name: "size-below-the-minimum", args: []string{"-objects", "5"}, wantErr: "5 is below the minimum"},
		{name: "zero-runs", args: []string{"-runs", "0"}, wantErr: "-runs must be at least 1"},
		{name: "short-timeout", args: []string{"-timeout", "10s"}, wantErr: "-timeout must be from 1m to 1h0m0s"},
		{name: "long-timeout", args: []string{"-timeout", "2h"}, wantErr: "-timeout must be from 1m to 1h0m0s"},
		{name: "update-needs-markdown", args: []string{"-update", "BENCHMARKS.md"}, wantErr: "-update needs -o markdown"},
		{name: "unknown-rate-limit", args: []string{"-rate-limit", "none"}, wantErr: "-rate-limit"},
		{name: "stray-argument", args: []string{"5000"}, wantErr: "unexpected arguments"},
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

func TestRateLimits(t *testing.T) {
	o, _ := parseOptions(nil, io.Discard)
	if q, b := o.qps(); q != 1000 || b != 2000 {
		t.Errorf("bench rate limit = %v/%v, want 1000/2000", q, b)
	}
	o.rateLimit = rateLimitAgent
	if q, b := o.qps(); q != 50 || b != 300 {
		t.Errorf("agent rate limit = %v/%v, want the agent's defaults 50/300", q, b)
	}
}

func TestFloorGoesFirstOnOddRuns(t *testing.T) {
	got := []bool{floorFirst(0), floorFirst(1), floorFirst(2)}
	if !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("floor first in runs 1, 2, 3 = %v", got)
	}
}

func TestPruneFilesRemoveHalfOfTheObjectsOutsideCluster(t *testing.T) {
	files := harness.Mixed(stackPath, stackPrefix, 1000, gitValue)
	removed := pruneFiles(files, stackPath)
	// 1000 objects: 10 Namespaces and the CRD stay; half of the 989 others go.
	if len(removed) != 494 {
		t.Fatalf("removed %d files, want 494", len(removed))
	}
	for _, p := range removed {
		if strings.HasPrefix(p, stackPath+"/cluster/") {
			t.Errorf("%s is a Namespace or the CRD", p)
		}
		if _, ok := files[p]; !ok {
			t.Errorf("%s is not in the repository", p)
		}
	}
	if !slices.IsSorted(removed) {
		t.Error("removed files are not in name order")
	}
	if again := pruneFiles(files, stackPath); !slices.Equal(again, removed) {
		t.Error("pruneFiles is not deterministic")
	}
}

func TestRefsOfReadsEachRemovedObject(t *testing.T) {
	files := harness.Mixed(stackPath, stackPrefix, 100, gitValue)
	removed := pruneFiles(files, stackPath)
	refs, err := refsOf(files, removed)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, r := range refs {
		kinds[r.gvk.Kind]++
		if r.namespace != stackPrefix+"-0" || !strings.Contains(removed[i], r.name) {
			t.Errorf("ref %+v of %s", r, removed[i])
		}
	}
	if kinds["Widget"] == 0 || kinds["Deployment"] == 0 || kinds["Namespace"] != 0 {
		t.Errorf("kinds removed = %v", kinds)
	}
	if _, err := refsOf(map[string]string{"bad.yaml": "kind: [\n"}, []string{"bad.yaml"}); err == nil {
		t.Error("a broken file: want an error")
	}
}

func TestFloorSplitsDefinitionsFirst(t *testing.T) {
	objs, err := decodeFiles(harness.Mixed(floorPrefix, floorPrefix, 300, gitValue))
	if err != nil {
		t.Fatal(err)
	}
	first, others := splitDefinitions(objs)
	if len(first) != 4 || len(others) != 296 {
		t.Fatalf("first %d, others %d; want 3 Namespaces and the CRD, then 296", len(first), len(others))
	}
	for _, u := range others {
		if u.GetKind() == "Namespace" || u.GetKind() == "CustomResourceDefinition" {
			t.Errorf("%s %s is not in the first stage", u.GetKind(), u.GetName())
		}
	}
}

func TestProbeSince(t *testing.T) {
	before := probe{requests: map[string]float64{"GET": 10, "PATCH": 5}, usage: harness.Usage{CPU: time.Second}, reconciles: 2, seconds: 3}
	after := probe{requests: map[string]float64{"GET": 110, "PATCH": 5, "DELETE": 1}, usage: harness.Usage{CPU: 3 * time.Second}, reconciles: 4, seconds: 7}
	c := after.since(before)
	if c.reconciles != 2 || c.wall != 2 || c.cpu != 2 || c.requests["GET"] != 100 || c.requests["DELETE"] != 1 || len(c.requests) != 2 {
		t.Errorf("since = %+v", c)
	}
}

func TestRatioIsPerRun(t *testing.T) {
	if got := ratio(sizeResult{flotilla: 6 * time.Second, floor: 2 * time.Second}); got != 3 {
		t.Errorf("ratio = %v, want 3", got)
	}
	if got := ratio(sizeResult{flotilla: time.Second}); got != 0 {
		t.Errorf("ratio without a floor = %v, want 0", got)
	}
}

// sampleReport is a report of two runs at two sizes.
func sampleReport(output string) report {
	o, _ := parseOptions([]string{"-o", output, "-runs", "2", "-objects", "100,1000"}, io.Discard)
	r := report{o: o, elapsed: 5 * time.Minute,
		machine: harness.Machine{CPUs: 2, CPUModel: "Test CPU", MemBytes: 8 << 30, Kernel: "6.1", Go: "go1.26", KubeVersion: "v1.37.2", Commit: "abc1234", Date: "2026-01-02"}}
	noop := map[noopKind]cost{
		noopSteady: {reconciles: 1, requests: map[string]float64{"PATCH": 1}, wall: 0.9, cpu: 1.1},
		noopForced: {reconciles: 1, requests: map[string]float64{"GET": 1010, "PATCH": 1001}, wall: 6, cpu: 4},
	}
	for i, s := range []time.Duration{time.Second, 2 * time.Second} {
		r.add(100, sizeResult{floorFirst: i == 0, flotilla: s, floor: 500 * time.Millisecond, peakRSS: 80 << 20, cpuTotal: s, cpuApply: s / 2, pruned: 49, prune: s, pruneFloor: s / 4})
		r.add(1000, sizeResult{floorFirst: i == 0, flotilla: 4 * s, floor: 2 * time.Second, peakRSS: 120 << 20, cpuTotal: 3 * s, cpuApply: 2 * s, noop: noop, pruned: 494, prune: 3 * s, pruneFloor: s})
	}
	return r
}

func TestReportMarkdown(t *testing.T) {
	var b strings.Builder
	if err := sampleReport("markdown").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"at commit `abc1234` on 2 CPUs (Test CPU), 8 GiB RAM, Linux 6.1, go1.26, kube-apiserver v1.37.2",
		"minimum / median over 2 runs",
		"### Initial apply",
		"| objects | Flotilla agent | floor (server-side apply only) | ratio (Flotilla / floor) |",
		"| 100 | 1.00 s / 1.50 s | 500 ms | 2.0x / 3.0x |",
		"| 1000 | 4.00 s / 6.00 s | 2.00 s | 2.0x / 3.0x |",
		"| 1000 | 120 MiB | 3.00 s / 4.50 s | 2.00 s / 3.00 s |",
		"### No-op reconciles at 1000 objects",
		"| steady state (interval reconcile) | 1 | 0 | 1 | 0 | 0 | 0 | 900 ms | 1.10 s |",
		"| full re-apply (reconcile request) | 1 | 1010 | 1001 | 0 | 0 | 0 | 6.00 s | 4.00 s |",
		"| 1000 | 494 | 3.00 s / 4.50 s | 1.00 s / 1.50 s | 3.0x |",
		"| 100 | 49 | 1.00 s / 1.50 s | 250 ms / 375 ms | 4.0x |",
		"Reproduce: `go run ./bench/cmd/apply -objects 100,1000 -runs 2`",
		"Reproduce: `go run ./bench/cmd/apply -objects 1000 -runs 2`",
		"`--kube-api-qps 1000 --kube-api-burst 2000`",
		"add `-rate-limit agent`",
		"the floor goes first on odd runs",
		"`maxPrunePercent: 60`",
		"Deployments never become available",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q; got:\n%s", want, out)
		}
	}
}

func TestReportWithoutTheNoopSize(t *testing.T) {
	r := sampleReport("markdown")
	r.o.noopObjects = 5000
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "No-op") {
		t.Errorf("a report without the no-op size has a no-op table:\n%s", b.String())
	}
}

func TestReportTextHasNoMarkdown(t *testing.T) {
	var b strings.Builder
	if err := sampleReport("text").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "|") || strings.Contains(out, "###") || strings.Contains(out, "`") {
		t.Errorf("text output holds Markdown:\n%s", out)
	}
	if !strings.Contains(out, "reproduce: go run ./bench/cmd/apply -objects 100,1000 -runs 2") {
		t.Errorf("text output lacks the command:\n%s", out)
	}
}

func TestCommandNamesNonDefaultFlags(t *testing.T) {
	o, _ := parseOptions([]string{"-quick", "-rate-limit", "agent"}, io.Discard)
	got := report{o: o}.command(o.objects)
	want := "go run ./bench/cmd/apply -objects 100 -noop-objects 100 -runs 1 -rate-limit agent"
	if got != want {
		t.Errorf("command = %q, want %q", got, want)
	}
}
