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
		want    func(options) bool
		wantErr string
	}{
		{"defaults", nil, func(o options) bool {
			return slices.Equal(o.clusters, []int{10, 50}) && o.objects == 100 && o.runs == 3 && o.parallel == 2 && o.output == "text"
		}, ""},
		{"several sizes", []string{"-clusters", "10, 50"}, func(o options) bool { return slices.Equal(o.clusters, []int{10, 50}) }, ""},
		{"quick", []string{"-quick"}, func(o options) bool {
			return slices.Equal(o.clusters, []int{2}) && o.objects == 20 && o.runs == 1
		}, ""},
		{"quick keeps explicit flags", []string{"-quick", "-clusters", "3", "-runs", "2"}, func(o options) bool {
			return slices.Equal(o.clusters, []int{3}) && o.objects == 20 && o.runs == 2
		}, ""},
		{"size not a number", []string{"-clusters", "10,fifty"}, nil, "-clusters"},
		{"size zero", []string{"-clusters", "0"}, nil, "-clusters"},
		{"too few objects", []string{"-objects", "2"}, nil, "-objects must be at least 3"},
		{"no runs", []string{"-runs", "0"}, nil, "-runs must be at least 1"},
		{"update needs markdown", []string{"-update", "BENCHMARKS.md"}, nil, "-update needs -o markdown"},
		{"unknown format", []string{"-o", "html"}, nil, `-o must be "text" or "markdown"`},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.want(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func TestRepoFilesGiveEachClusterItsOwnOverlay(t *testing.T) {
	files := repoFiles([]string{"cluster-00", "cluster-01"}, 20, "v1")
	base := files["base/kustomization.yaml"]
	for p := range files {
		if rel, ok := strings.CutPrefix(p, "base/"); ok && rel != "kustomization.yaml" && !strings.Contains(base, "- "+rel+"\n") {
			t.Errorf("base/kustomization.yaml does not list %s", rel)
		}
	}
	if got := strings.Count(base, "\n- "); got != 20 {
		t.Errorf("base lists %d resources, want 20", got)
	}
	for _, name := range []string{"cluster-00", "cluster-01"} {
		k := files["clusters/"+name+"/kustomization.yaml"]
		for _, want := range []string{"- ../../base\n", "- cluster-info.yaml\n", clusterLabel + ": " + name + "\n"} {
			if !strings.Contains(k, want) {
				t.Errorf("clusters/%s/kustomization.yaml lacks %q:\n%s", name, want, k)
			}
		}
		if info := files["clusters/"+name+"/cluster-info.yaml"]; !strings.Contains(info, "cluster: "+name) {
			t.Errorf("clusters/%s/cluster-info.yaml does not name its cluster:\n%s", name, info)
		}
	}
}

func TestBaseChangeChangesTheSharedValueOnly(t *testing.T) {
	before := repoFiles([]string{"cluster-00"}, 20, "v1")
	after := baseChange(20, "v2")
	changed := 0
	for p, content := range after {
		if !strings.HasPrefix(p, "base/") {
			t.Errorf("the change writes %s, outside the base", p)
		}
		if before[p] != content {
			changed++
		}
	}
	if want := changedObjects(20); changed != want {
		t.Errorf("%d files change, want %d (changedObjects)", changed, want)
	}
}

func TestSumUsage(t *testing.T) {
	p := func(comm string, rss, pss uint64, cpu time.Duration) proc {
		return proc{comm: comm, share: share{rss: rss, pss: pss, cpu: cpu}}
	}
	procs := []proc{
		p("etcd", 100, 90, time.Second), p("kube-apiserver", 300, 200, 2*time.Second), p("kube-apiserver", 320, 210, 3*time.Second),
		p("flotilla", 50, 40, time.Second), p("flotilla", 60, 45, time.Second), p("git", 999, 999, time.Hour),
	}
	u := sumUsage(procs, "flotilla")
	want := usage{
		etcd:       share{rss: 100, pss: 90, cpu: time.Second},
		apiservers: share{rss: 620, pss: 410, cpu: 5 * time.Second},
		agents:     share{rss: 110, pss: 85, cpu: 2 * time.Second},
	}
	if u != want {
		t.Errorf("sumUsage = %+v, want %+v", u, want)
	}
	if got := u.total(); got != (share{rss: 830, pss: 585, cpu: 8 * time.Second}) {
		t.Errorf("total %+v", got)
	}
	if got := perCluster(u.total().rss, 2); got != 415 {
		t.Errorf("per cluster of 2: %d, want 415", got)
	}
	later := u
	later.agents.cpu += 3 * time.Second
	later.etcd.cpu += time.Second
	later.apiservers.cpu += 2 * time.Second
	if got := cpuBetween(u, later); got != (cpu{agents: 3 * time.Second, controlPlane: 3 * time.Second}) {
		t.Errorf("cpuBetween = %+v, want 3s and 3s", got)
	}
}

func TestWave(t *testing.T) {
	w := wave{perCluster: []time.Duration{3 * time.Second, time.Second, 2 * time.Second}}
	if w.all() != 3*time.Second || w.fastest() != time.Second {
		t.Errorf("all %s, fastest %s, want 3s and 1s", w.all(), w.fastest())
	}
}

func testReport(output string) report {
	o, _ := parseOptions([]string{"-clusters", "2,3", "-runs", "2", "-objects", "20", "-o", output}, io.Discard)
	run := func(n int, scale time.Duration) runResult {
		per := make([]time.Duration, n)
		peaks := make([]uint64, n)
		for i := range per {
			per[i] = time.Duration(i+1) * scale
			peaks[i] = uint64(i+1) << 26 // 64 MiB steps
		}
		return runResult{
			clusters: n, start: 4 * scale,
			initial: wave{perCluster: per}, rollout: wave{perCluster: per},
			initialCPU: cpu{agents: scale, controlPlane: 2 * scale}, rolloutCPU: cpu{agents: scale / 2, controlPlane: scale}, peakRSS: peaks,
			end: usage{
				etcd:       share{rss: 64 << 20, pss: 60 << 20},
				apiservers: share{rss: uint64(n) * 300 << 20, pss: uint64(n) * 200 << 20},
				agents:     share{rss: uint64(n) * 70 << 20, pss: uint64(n) * 50 << 20},
			},
		}
	}
	return report{
		o:       o,
		machine: harness.Machine{CPUs: 2, CPUModel: "Test CPU", MemBytes: 8 << 30, Kernel: "6.1", Go: "go1.26", KubeVersion: "v1.37.2", Commit: "abc1234", Date: "2026-01-02"},
		runs:    []runResult{run(2, time.Second), run(2, 2*time.Second), run(3, time.Second), run(3, 3*time.Second)},
		load:    "0.50",
		elapsed: 90 * time.Second,
	}
}

func TestReportMarkdown(t *testing.T) {
	var b strings.Builder
	if err := testReport("markdown").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Measured on 2026-01-02 at commit `abc1234` on 2 CPUs (Test CPU), 8 GiB RAM, Linux 6.1, go1.26, kube-apiserver v1.37.2",
		"minimum / median over 2 runs",
		"its own 21 objects",
		"### 2 clusters\n",
		"### 3 clusters\n",
		"| initial convergence, every cluster Ready | 2.00 s | 3.00 s |",
		"| initial convergence, fastest cluster | 1.00 s | 1.50 s |",
		"| agents' peak RSS (largest agent) | 128 MiB | 128 MiB |",
		"| fleet VmRSS: per cluster | 402 MiB | 402 MiB |",
		"| fleet Pss: per cluster | 280 MiB | 280 MiB |",
		"| control plane CPU, initial convergence | 2.00 s | 3.00 s |",
		"Reproduce: `go run ./bench/cmd/fleet -clusters 2 -objects 20 -runs 2`",
		"Reproduce: `go run ./bench/cmd/fleet -clusters 3 -objects 20 -runs 2`",
		"`flotilla agent --kube-api-qps 1000 --kube-api-burst 2000`",
		"`--etcd-prefix /cluster-NN`",
		"load average was 0.50",
		"- 2 clusters, median run: the agents and the control plane used 3.00 s of CPU time during the initial convergence, 1.50 s during the rollout: 75% and 38% of the 2 CPUs over those waves. The agents' share per cluster was 500 ms and 250 ms.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestReportTextHasNoNotes(t *testing.T) {
	var b strings.Builder
	if err := testReport("text").write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "2 clusters\n----------\n") || strings.Contains(out, "Notes:") {
		t.Errorf("text report:\n%s", out)
	}
}
