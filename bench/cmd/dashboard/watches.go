package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/discovery"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// watchMetric is kube-apiserver's gauge of the long-running requests it
// serves, by verb, group and resource: its WATCH series of Flotilla's
// group count the watches open on Flotilla's kinds.
const watchMetric = "apiserver_longrunning_requests"

// watches are the watch requests open on Flotilla's kinds, summed over
// the clusters, by resource (stacks, gitrepositories, ...).
type watches map[string]int

// total is every watch.
func (w watches) total() int {
	n := 0
	for _, v := range w {
		n += v
	}
	return n
}

// String renders "canaries 50, gitrepositories 50, ...".
func (w watches) String() string {
	var parts []string
	for r, n := range w {
		parts = append(parts, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// countWatches reads every cluster's metrics (at once) and sums the watch
// requests open on Flotilla's group. The benchmark itself opens none: its
// own requests are creates and patches.
func countWatches(ctx context.Context, clusters []*controlplane.Cluster) (watches, error) {
	per := make([]watches, len(clusters))
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	for i, c := range clusters {
		wg.Go(func() {
			d, err := discovery.NewDiscoveryClientForConfig(c.Config)
			if err == nil {
				var body io.ReadCloser
				if body, err = d.RESTClient().Get().AbsPath("/metrics").Stream(ctx); err == nil {
					per[i], err = readWatches(body)
					body.Close()
				}
			}
			if err != nil {
				errs[i] = fmt.Errorf("reading the metrics of %s: %w", c.Name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sum := watches{}
	for _, w := range per {
		for r, n := range w {
			sum[r] += n
		}
	}
	return sum, nil
}

// steadyReads is how many equal counts in a row, steadyInterval apart,
// make the watches steady.
const (
	steadyReads    = 3
	steadyInterval = 500 * time.Millisecond
)

// steadyWatches counts the watches until the count stays the same for
// steadyReads reads: the server starts each kind's informer without
// waiting for the others, so a fleet that shows its Stacks may still be
// listing its Canaries.
func steadyWatches(ctx context.Context, clusters []*controlplane.Cluster, timeout time.Duration) (watches, error) {
	deadline := time.Now().Add(timeout)
	var last watches
	same := 0
	for {
		w, err := countWatches(ctx, clusters)
		if err != nil {
			return nil, err
		}
		if last != nil && w.String() == last.String() {
			same++
		} else {
			same = 1
		}
		if last = w; same >= steadyReads || time.Now().After(deadline) {
			return w, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(steadyInterval):
		}
	}
}

// readWatches reads a kube-apiserver's metrics, keeping the lines of
// watchMetric only (the whole exposition is megabytes of histograms), and
// parses them with parseWatches.
func readWatches(r io.Reader) (watches, error) {
	var kept strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# TYPE "), "# HELP ")
		if strings.HasPrefix(name, watchMetric+" ") || strings.HasPrefix(name, watchMetric+"{") {
			kept.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return parseWatches(kept.String())
}

// parseWatches reads watchMetric's WATCH series of Flotilla's group from a
// Prometheus text exposition.
func parseWatches(text string) (watches, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	mf, ok := families[watchMetric]
	if !ok {
		return nil, fmt.Errorf("no %s in the metrics", watchMetric)
	}
	w := watches{}
	for _, m := range mf.GetMetric() {
		l := labels(m)
		if l["verb"] == "WATCH" && l["group"] == v1alpha1.GroupVersion.Group {
			w[l["resource"]] += int(m.GetGauge().GetValue())
		}
	}
	return w, nil
}

// labels are a metric's labels by name.
func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
