package demo

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExampleClustersAreTheDefaults(t *testing.T) {
	got := exampleClusters()
	want := slices.Sorted(slices.Values(DefaultClusters))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("examples/fleet clusters (-DefaultClusters +examples):\n%s", diff)
	}
}

func TestValidateClusters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		clusters []string
		// want are substrings of the error; none for a valid list.
		want []string
	}{
		{name: "the defaults", clusters: DefaultClusters},
		{name: "one prod cluster", clusters: []string{"prod-eu-west"}},
		{name: "prod first, staging last", clusters: []string{"prod-us-east", "staging"}},
		{name: "empty list (--clusters '')", clusters: []string{}, want: []string{"--clusters", "no cluster given", "staging", "prod-us-east", "prod-eu-west"}},
		{name: "an empty name (--clusters staging,)", clusters: []string{"staging", ""}, want: []string{"--clusters", "empty cluster name", "prod-eu-west"}},
		{name: "an unknown cluster", clusters: []string{"staging", "prod-ap-south"}, want: []string{`"prod-ap-south"`, "clusters/prod-ap-south", "choose from prod-eu-west, prod-us-east, staging"}},
		{name: "a name with spaces", clusters: []string{" staging"}, want: []string{`" staging"`, "not a cluster of examples/fleet"}},
		{name: "a path", clusters: []string{"../staging"}, want: []string{`"../staging"`, "not a cluster"}},
		{name: "a repeated cluster", clusters: []string{"staging", "staging"}, want: []string{"staging is given twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateClusters(tc.clusters)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("validateClusters(%q) = %v, want nil", tc.clusters, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("validateClusters(%q) = nil, want an error", tc.clusters)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("validateClusters(%q) = %q, want it to contain %q", tc.clusters, err, w)
				}
			}
		})
	}
}

// `flotilla demo --clusters ”` gives Run an empty, non-nil list: a usage
// error, before anything starts.
func TestRunRefusesAnEmptyClusterList(t *testing.T) {
	dir := t.TempDir()
	rep := &recordingReporter{}
	err := runRecovered(context.Background(), Options{
		Assets: os.Getenv("KUBEBUILDER_ASSETS"), Dir: dir, Clusters: []string{}, Wait: time.Second,
		AgentBinary: "/bin/false", DashboardAddress: "off", Report: rep,
	})
	if err == nil || !strings.Contains(err.Error(), "--clusters") {
		t.Fatalf("Run with --clusters '' = %v, want a usage error about --clusters", err)
	}
	if len(rep.steps)+len(rep.waits) > 0 {
		t.Errorf("Run reported %q %q before refusing the cluster list", rep.steps, rep.waits)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("Run wrote %d files in %s before refusing the cluster list", len(entries), dir)
	}
}

// runRecovered is Run with a panic turned into a test failure's error.
func runRecovered(ctx context.Context, o Options) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return Run(ctx, o)
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + fmt.Sprint(p.v) }
