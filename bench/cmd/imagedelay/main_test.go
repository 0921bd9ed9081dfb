package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseOptionsQuickKeepsExplicitFlags(t *testing.T) {
	o, err := parseOptions([]string{"-quick", "-interval", "2s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.runs != 1 || o.interval != 2*time.Second || o.timeout != 2*time.Minute {
		t.Errorf("options = %+v, want 1 run (quick), a 2s interval (explicit), the 2m timeout", o)
	}
	o, err = parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.runs != 5 || o.interval != time.Second {
		t.Errorf("defaults = %+v, want 5 runs at a 1s interval", o)
	}
}

func TestParseOptionsRefusesNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"-runs", "0"}, {"-interval", "500ms"}, {"-timeout", "1s"}, {"-o", "html"}, {"-update", "BENCHMARKS.md"}, {"extra"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
}

func TestManifestCarriesThePolicyMarker(t *testing.T) {
	got := manifest("127.0.0.1:5000/team/app:v1.0.0")
	if want := `          image: 127.0.0.1:5000/team/app:v1.0.0 # {"$imagepolicy": "bench:app"}` + "\n"; !strings.Contains(got, want) {
		t.Errorf("manifest lacks %q:\n%s", want, got)
	}
}

func TestReportShowsTheSpreadTheIntervalAndTheCommand(t *testing.T) {
	r := results{
		o: options{runs: 3, interval: time.Second, output: "markdown"},
		updates: []update{
			{tag: "v1.1.0", chosen: 200 * time.Millisecond, total: 400 * time.Millisecond},
			{tag: "v1.2.0", chosen: 900 * time.Millisecond, total: 1200 * time.Millisecond},
			{tag: "v1.3.0", chosen: 500 * time.Millisecond, total: 800 * time.Millisecond},
		},
		load: "1.00",
	}
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| tag pushed → commit on main (end to end) | 400 ms | 800 ms | 800 ms | 1.20 s |",
		"| ImagePolicy chose it → commit on main (ImageUpdate: clone, edit, commit, push) | 200 ms | 300 ms | 267 ms | 300 ms |",
		"Scan interval of the ImageRepository: 1s.",
		"on average half the interval (here 500ms)",
		"`go run ./bench/cmd/imagedelay -runs 3 -interval 1s`",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if h := r.headlines(); len(h) != 1 || h[0].Min != "400 ms" || h[0].Median != "800 ms" || h[0].Runs != 3 {
		t.Errorf("headlines %+v", h)
	}
}

func TestARunCommitsEveryNewTag(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this builds flotilla and starts a control plane, a registry, a Git server and the agent")
	}
	o := options{runs: 2, interval: time.Second, timeout: 2 * time.Minute, output: "text"}
	var out strings.Builder
	if err := run(context.Background(), o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "delay (2 new tags)") {
		t.Errorf("report:\n%s", out.String())
	}
}
