package main

import (
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// fakeRun is a run whose delays are base, 2 x base ... and whose watches
// are those of clusters x 5 kinds whatever the clients.
func fakeRun(clusters int, base time.Duration, render time.Duration) runResult {
	w := watches{"stacks": clusters, "gitrepositories": clusters, "canaries": clusters, "imagepolicies": clusters, "imageupdates": clusters}
	var d delays
	for k := 1; k <= 10; k++ {
		d.first = append(d.first, time.Duration(k)*base)
		d.all = append(d.all, time.Duration(k)*base+time.Millisecond)
		d.page = append(d.page, time.Duration(k)*base+5*time.Millisecond)
	}
	return runResult{
		ready: 3 * time.Second, fleetBytes: 600 << 10, fleetRead: 4 * time.Millisecond,
		idle: w, withStreams: w, withBrowser: w,
		load:   load{full: 500*time.Millisecond + render, data: 500 * time.Millisecond},
		delays: d, cpu: 9 * time.Second, changesCPU: time.Second, peakRSS: 200 << 20, clusterEvents: 10,
	}
}

func fakeReport(runs ...runResult) report {
	o, _ := parseOptions([]string{"-clusters", "50", "-changes", "10", "-o", "markdown"}, nil)
	return report{o: o, machine: harness.Machine{CPUs: 2, CPUModel: "test CPU", Date: "2026-12-03", Commit: "abc1234"}, runs: runs, load: "0.50",
		started: time.Minute, populated: 5 * time.Second, elapsed: 3 * time.Minute}
}

func TestReportStatesTheFiguresAndTheTargets(t *testing.T) {
	r := fakeReport(fakeRun(50, 10*time.Millisecond, 200*time.Millisecond), fakeRun(50, 20*time.Millisecond, 300*time.Millisecond))
	var out strings.Builder
	if err := r.write(&out); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"### Start and load", "### Change latency, 10 changes per run", "### Server resources and watches",
		"| server start → /api/fleet shows every cluster and Stack | 3.00 s |",
		"| page: first Fleet received → full matrix (render) | 200 ms / 250 ms |",
		"| status patch → `cluster` event, first of the streams | 50.0 ms / 75.0 ms | 100 ms / 150 ms | 100 ms / 150 ms |",
		"| watch requests, 10 streams and Chromium's page | 250 |",
		"| server peak RSS (VmHWM) | 200 MiB |",
		"render in under a second once loaded\": 50 x 20 rendered 300 ms after the first Fleet arrived: met.",
		"the page's cell after 205 ms: met.",
		"250 watch requests with no client and with every client open, for 50 clusters x 5 kinds = 250: met.",
		"Reproduce: `go run ./bench/cmd/dashboard -clusters 50 -stacks 20 -changes 10 -streams 10 -runs 3`",
		"Watches by resource in the last run, with every client open: canaries 50, gitrepositories 50, imagepolicies 50, imageupdates 50, stacks 50.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if hs := r.headlines(); len(hs) != 5 || hs[0].Figure != "dashboard start to full fleet, 50 x 20 Stacks" || hs[4].Median != "200 MiB" {
		t.Errorf("headlines %+v", hs)
	}
}

func TestReportSaysWhenATargetIsMissed(t *testing.T) {
	slow := fakeRun(50, 300*time.Millisecond, 1500*time.Millisecond)
	slow.withStreams = watches{"stacks": 60}
	r := fakeReport(slow)
	var out strings.Builder
	if err := r.write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rendered 1.50 s after the first Fleet arrived: NOT met.", "the page's cell after 3.00 s: NOT met.", "60 and 250 watch requests with no client and with every client open, for 50 clusters x 5 kinds = 250: NOT met."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReportWithoutBrowser(t *testing.T) {
	r := fakeReport(fakeRun(3, time.Millisecond, time.Millisecond))
	r.o.chromium, r.o.clusters, r.o.output = "", 3, "text"
	var out strings.Builder
	if err := r.write(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "page") || !strings.Contains(out.String(), `-chromium ""`) {
		t.Errorf("a report without a browser names the page or lacks -chromium \"\":\n%s", out.String())
	}
	if hs := r.headlines(); len(hs) != 3 {
		t.Errorf("%d headlines without a browser, want 3: %+v", len(hs), hs)
	}
}
