package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
			return o.runs == 3 && o.settle == 10*time.Second && o.timeout == 3*time.Minute && o.output == "text"
		}},
		{name: "quick-runs-once", args: []string{"-quick"}, check: func(o options) bool { return o.runs == 1 && o.settle == 10*time.Second }},
		{name: "explicit-runs-win-over-quick", args: []string{"-runs", "2", "-quick"}, check: func(o options) bool { return o.runs == 2 }},
		{name: "update-needs-markdown", args: []string{"-update", "BENCHMARKS.md"}, wantErr: "-update needs -o markdown"},
		{name: "zero-runs", args: []string{"-runs", "0"}, wantErr: "-runs must be at least 1"},
		{name: "negative-settle", args: []string{"-settle", "-1s"}, wantErr: "-settle must not be negative"},
		{name: "unknown-output", args: []string{"-o", "json"}, wantErr: `-o must be "text" or "markdown"`},
		{name: "stray-argument", args: []string{"now"}, wantErr: "unexpected arguments"},
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
	mib := func(rss, pss uint64) harness.Memory { return harness.Memory{RSS: rss << 20, PSS: pss << 20} }
	run := func(start, stop time.Duration, etcd harness.Memory) runResult {
		return runResult{
			start: start, lockWait: 90 * time.Second, available: 2500 * time.Millisecond, rollout: 3 * time.Second, stop: stop,
			idle: idleMemory{
				components: map[string]harness.Memory{"kubelet": mib(80, 60), "etcd": etcd, "kube-apiserver": mib(300, 250)},
				pods:       podProcesses{Memory: mib(40, 20), Processes: 6, Pods: 2},
			},
		}
	}
	return report{
		o:       o,
		machine: harness.Machine{CPUs: 2, CPUModel: "Test CPU", MemBytes: 8 << 30, Kernel: "6.1", Go: "go1.26", KubeVersion: "v1.37.2", Commit: "abc1234", Date: "2026-01-02"},
		runs: []runResult{
			run(12*time.Second, 4*time.Second, mib(50, 40)),
			run(14*time.Second, 6*time.Second, mib(70, 60)),
		},
		load:    "1.50",
		elapsed: 2 * time.Minute,
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
		"### Start and stop",
		"| figure | min of 2 runs | median of 2 runs |",
		"| start-up: localnode.Start until it returns, the Node Ready | 12.00 s | 13.00 s |",
		"| stop: Cluster.Stop | 4.00 s | 5.00 s |",
		"### Deployment of 2 pause Pods",
		"| create a Deployment of 2 pause Pods, to Available | 2.50 s | 2.50 s |",
		"| rolling update (a Pod template annotation), to Available | 3.00 s | 3.00 s |",
		"### Idle memory",
		"| etcd | 50 MiB | 60 MiB | 40 MiB | 50 MiB |",
		"| per Pod: its containerd shim and pause processes | 20 MiB | 20 MiB | 10 MiB | 10 MiB |",
		"| total: the components and every Pod | 470 MiB | 480 MiB | 370 MiB | 380 MiB |",
		"Reproduce: `go run ./bench/cmd/node -runs 2 -settle 10s`",
		"the longest wait was 90.00 s",
		"found 2 Pods and 6 of their processes",
		"load average was 1.50",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q; got:\n%s", want, out)
		}
	}
	if strings.Index(out, "| etcd |") > strings.Index(out, "| kube-apiserver |") || strings.Index(out, "| kube-apiserver |") > strings.Index(out, "| kubelet |") {
		t.Errorf("components are not in start order:\n%s", out)
	}
}

func TestReportTextHasNoMarkdown(t *testing.T) {
	var b strings.Builder
	if err := sampleReport("text").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "|") || strings.Contains(out, "###") || strings.Contains(out, "Notes:") {
		t.Errorf("text output holds Markdown:\n%s", out)
	}
	if !strings.Contains(out, "reproduce: go run ./bench/cmd/node -runs 2 -settle 10s") {
		t.Errorf("text output lacks the command:\n%s", out)
	}
}

func TestHeadlines(t *testing.T) {
	got := sampleReport("markdown").headlines()
	want := []harness.Headline{
		{Section: "Real node", Figure: "real node start-up, to the Node Ready", Min: "12.00 s", Median: "13.00 s", Runs: 2},
		{Section: "Real node", Figure: "real node idle memory, total Pss", Min: "370 MiB", Median: "380 MiB", Runs: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headlines (-want +got):\n%s", diff)
	}
	if hs := (report{}).headlines(); hs != nil {
		t.Errorf("no runs gave headlines %v", hs)
	}
}

func TestMemoryRowsSkipAComponentARunLacks(t *testing.T) {
	r := sampleReport("markdown")
	delete(r.runs[1].idle.components, "etcd")
	for _, row := range r.memoryRows() {
		if row.name != "etcd" {
			continue
		}
		rss, _ := r.memorySpreads(row)
		if rss.Min != 50<<20 || rss.Median != 50<<20 {
			t.Errorf("etcd VmRSS spread %+v, want the one run that has it", rss)
		}
		return
	}
	t.Error("no etcd row")
}

func TestByStartOrder(t *testing.T) {
	names := []string{"zeta", "kubelet", "alpha", "etcd", "coredns", "containerd"}
	slices.SortFunc(names, byStartOrder)
	want := []string{"etcd", "containerd", "kubelet", "coredns", "alpha", "zeta"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestCountRange(t *testing.T) {
	for _, tt := range []struct {
		values []int
		want   string
	}{{nil, "0"}, {[]int{2, 2}, "2"}, {[]int{3, 2, 4}, "2-4"}} {
		if got := countRange(tt.values); got != tt.want {
			t.Errorf("countRange(%v) = %q, want %q", tt.values, got, tt.want)
		}
	}
}
