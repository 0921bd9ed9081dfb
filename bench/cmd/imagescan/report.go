package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// results are every run.
type results struct {
	o        options
	kept     int
	pushTime time.Duration
	scans    []scanResult
	machine  harness.Machine
	load     string // /proc/loadavg when the runs started
	elapsed  time.Duration
}

// run measures, then writes the report to stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	log := harness.NewProgress(stderr)
	tmp, err := os.MkdirTemp("", "flotilla-bench-imagescan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log.Printf("pushing %d tags to an in-process registry", o.tags)
	f, err := makeFixture(ctx, tmp, o)
	if err != nil {
		return err
	}
	defer f.reg.Close()
	r := results{o: o, kept: f.kept, pushTime: f.pushTime, machine: harness.DescribeMachine(controlplane.ModuleRoot()), load: harness.LoadAverage()}
	for i := range o.runs {
		s, err := timeScan(ctx, f, o, fmt.Sprintf("%s/run-%d", tmp, i))
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		if s.tags != f.kept {
			return fmt.Errorf("run %d: the scan kept %d tags, want %d", i+1, s.tags, f.kept)
		}
		log.Printf("run %d/%d: scan %s, store %s, choose %s (%s)", i+1, o.runs, s.scan.Round(time.Millisecond),
			s.store.Round(time.Millisecond), s.choose.Round(time.Millisecond), s.winner)
		r.scans = append(r.scans, s)
	}
	r.elapsed = log.Elapsed()
	return harness.Publish(harness.Report{Section: "Image scan", Write: r.write, Headlines: r.headlines()}, stdout, o.headlines, o.update, log)
}

func (r results) spreads() (scan, store, choose harness.Spread) {
	var a, b, c []float64
	for _, s := range r.scans {
		a, b, c = append(a, s.scan.Seconds()), append(b, s.store.Seconds()), append(c, s.choose.Seconds())
	}
	return harness.SpreadOf(a), harness.SpreadOf(b), harness.SpreadOf(c)
}

// write prints the report as text or markdown.
func (r results) write(w io.Writer) error {
	scan, store, choose := r.spreads()
	n := len(r.scans)
	pages := (r.o.tags + r.o.pageSize - 1) / r.o.pageSize
	t := harness.Table{
		Header: []string{"step", fmt.Sprintf("min of %d runs", n), fmt.Sprintf("median of %d runs", n)},
		Rows: [][]string{
			{fmt.Sprintf("scan: list %d tags in %s of %d, exclusion list applied (%d kept)", r.o.tags, harness.Plural(pages, "page"), r.o.pageSize, r.kept),
				harness.FormatSeconds(scan.Min), harness.FormatSeconds(scan.Median)},
			{fmt.Sprintf("store the %d tags on disk (tag store)", r.kept), harness.FormatSeconds(store.Min), harness.FormatSeconds(store.Median)},
			{fmt.Sprintf("choose among them (semver policy, %d candidates)", r.kept), harness.FormatSeconds(choose.Min), harness.FormatSeconds(choose.Median)},
		},
	}
	fmt.Fprintf(w, "Measured on %s on %s, in %s. Whole section: `make bench-imagescan`; it needs no control plane. Each cell is the minimum / median over the runs.\n\n",
		time.Now().UTC().Format("2006-01-02"), r.machine, r.elapsed.Round(time.Second))
	fmt.Fprintf(w, "One image repository of %d tags (every %dth a cosign `.sig` tag) in go-containerregistry's registry, run in process over TLS with basic auth (internal/ociimage/ocitest, the registry of the integration tests; blobs in memory). Each run is what the ImageRepository controller does on a scan: a new client from a dockerconfigjson and a CA, every tag page, the default exclusion list; then what follows it: the tag store's write and an ImagePolicy's choice. Pushing the tags beforehand took %s (not timed).\n\n",
		r.o.tags, signatures, r.pushTime.Round(time.Millisecond))
	var err error
	if r.o.output == "markdown" {
		err = t.WriteMarkdown(w)
	} else {
		err = t.WriteText(w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nReproduce: `go run ./bench/cmd/imagescan -tags %d -page-size %d -runs %d`\n", r.o.tags, r.o.pageSize, r.o.runs)
	fmt.Fprintf(w, "\nNotes:\n\n- A remote registry adds one round trip per page (here %s) and its own listing time; the registry's Link header, or the `n`/`last` parameters when it sends none, drive the pages.\n", harness.Plural(pages, "page"))
	fmt.Fprintf(w, "- The agent keeps at most spec.maxTags (default 10,000) tags of a scan; a repository with more is reported TooManyTags with its count, not stored.\n")
	fmt.Fprintf(w, "- The 1-minute load average was %s when the runs started: the machine may have been running other work, which shows in the spread between min and median.\n", r.load)
	return nil
}

// headlines are the figures of the summary table.
func (r results) headlines() []harness.Headline {
	scan, _, _ := r.spreads()
	return []harness.Headline{{Section: "Image scan", Figure: fmt.Sprintf("registry scan of %d tags", r.o.tags),
		Min: harness.FormatSeconds(scan.Min), Median: harness.FormatSeconds(scan.Median), Runs: len(r.scans)}}
}
