package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// results are every update of one invocation.
type results struct {
	o       options
	updates []update
	machine harness.Machine
	load    string // /proc/loadavg when the runs started
	elapsed time.Duration
}

// stats is the min, median, mean and max of one figure, in seconds.
type stats struct{ min, median, mean, max float64 }

func statsOf(ds []time.Duration) stats {
	var vs []float64
	var sum float64
	for _, d := range ds {
		vs = append(vs, d.Seconds())
		sum += d.Seconds()
	}
	if len(vs) == 0 {
		return stats{}
	}
	return stats{min: slices.Min(vs), median: harness.Median(vs), mean: sum / float64(len(vs)), max: slices.Max(vs)}
}

func (s stats) row(step string) []string {
	return []string{step, harness.FormatSeconds(s.min), harness.FormatSeconds(s.median), harness.FormatSeconds(s.mean), harness.FormatSeconds(s.max)}
}

// figures are the end-to-end delays, the scan part and the update part.
func (r results) figures() (total, chosen, commit stats) {
	var t, c, u []time.Duration
	for _, x := range r.updates {
		t, c, u = append(t, x.total), append(c, x.chosen), append(u, x.total-x.chosen)
	}
	return statsOf(t), statsOf(c), statsOf(u)
}

// write prints the report as text or markdown.
func (r results) write(w io.Writer) error {
	total, chosen, commit := r.figures()
	n := len(r.updates)
	t := harness.Table{
		Header: []string{fmt.Sprintf("delay (%s)", harness.Plural(n, "new tag")), "min", "median", "mean", "max"},
		Rows: [][]string{
			total.row("tag pushed → commit on main (end to end)"),
			chosen.row("tag pushed → ImagePolicy chose it (wait for the scan, scan, choice)"),
			commit.row("ImagePolicy chose it → commit on main (ImageUpdate: clone, edit, commit, push)"),
		},
	}
	fmt.Fprintf(w, "Measured on %s on %s, in %s. Whole section: `make bench-imagedelay`. Scan interval of the ImageRepository: %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), r.machine, r.elapsed.Round(time.Second), r.o.interval)
	fmt.Fprintf(w, "The delay from a new image tag pushed to a registry to the commit in Git that an ImageUpdate writes for it. Every part is real: kube-apiserver and etcd with Flotilla's CRDs, `flotilla agent` built from this commit and run as its own process with a kubeconfig, go-containerregistry's registry over TLS with basic auth (internal/ociimage/ocitest, in the benchmark's process) and a Git server over smart HTTP with basic auth (test/gitserver, git-http-backend). One GitRepository, one ImageRepository (scan interval %s, dockerconfigjson and CA Secrets), one ImagePolicy (semver `>=1.0.0`) and one ImageUpdate (Setters on `apps/`, push to main) update a Deployment whose image carries a `# {\"$imagepolicy\": ...}` marker. After the first choice (v1.0.0) each run waits a random part of the scan interval, pushes the next version (v1.1.0, v1.2.0, ...) and polls, every %s, the ImagePolicy's status and main in the bare repository until main moves to a commit naming the new tag.\n\n",
		r.o.interval, pollEvery)
	var err error
	if r.o.output == "markdown" {
		err = t.WriteMarkdown(w)
	} else {
		err = t.WriteText(w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nReproduce: `go run ./bench/cmd/imagedelay -runs %d -interval %s`\n", r.o.runs, r.o.interval)
	fmt.Fprintf(w, "\nNotes:\n\n- The delay is dominated by the scan interval: a tag pushed at a random point of the cycle waits for the next scan, on average half the interval (here %s), at most the whole of it. Only then does the ImagePolicy choose it, and the ImageUpdate, which watches the ImagePolicy, commits at once. A shorter interval shortens the wait and costs one tag list request to the registry per interval.\n", time.Duration(r.o.interval/2))
	fmt.Fprintf(w, "- The ImageUpdate's part (clone over HTTP, edit, commit, push) is on loopback here; a remote Git host adds its round trips, and a large repository its clone time.\n")
	fmt.Fprintf(w, "- Every figure has the resolution of the poll, %s; a choice and a commit seen in the same poll count the choice at the commit.\n", pollEvery)
	fmt.Fprintf(w, "- The 1-minute load average was %s when the runs started: the machine was shared with other work (builds and tests), which shows in the spread and in the update part.\n", r.load)
	return nil
}

// headlines are the figures of the summary table.
func (r results) headlines() []harness.Headline {
	total, _, _ := r.figures()
	return []harness.Headline{{Section: "Image delay", Figure: fmt.Sprintf("new tag to Git commit, scan interval %s", r.o.interval),
		Min: harness.FormatSeconds(total.min), Median: harness.FormatSeconds(total.median), Runs: len(r.updates)}}
}
