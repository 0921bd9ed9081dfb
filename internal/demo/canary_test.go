package demo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	"github.com/flotilla-io/flotilla/internal/render"
)

// The app the canary step commits renders into its namespace, with a
// Canary of the fields the step relies on and a Deployment without
// replicas; staging's directory lists its Stack.
func TestWriteCanaryAppRenders(t *testing.T) {
	dir := t.TempDir()
	if err := copyFleet(dir); err != nil {
		t.Fatal(err)
	}
	if err := withSecretsStack(DefaultClusters, func(string) error { return nil })(dir); err != nil {
		t.Fatal(err)
	}
	if err := writeCanaryApp(dir, "staging", "registry.test/example-app:v1.0.0", "http://10.0.0.1:9090"); err != nil {
		t.Fatal(err)
	}
	objs, err := render.Build(context.Background(), render.Options{Root: dir, Path: canaryPath})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
		switch o.GetKind() {
		case "Deployment":
			if _, found, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "replicas"); found {
				t.Error("the Deployment sets replicas, which the Canary owns")
			}
		case v1alpha1.CanaryKind:
			checkCanary(t, o)
		}
	}
	want := []string{"Namespace /" + canaryNS, "Deployment " + canaryNS + "/" + canaryName, "Canary " + canaryNS + "/" + canaryName}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("apps/canary renders (-want +got):\n%s", diff)
	}
	stacks, err := render.Build(context.Background(), render.Options{Root: dir, Path: "clusters/staging"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range stacks {
		names = append(names, o.GetName())
	}
	if !strings.Contains(strings.Join(names, ","), "apps,canary,secrets") {
		t.Errorf("clusters/staging lists %v, want the Stack canary after apps", names)
	}
}

func checkCanary(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	b, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var c v1alpha1.Canary
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("the Canary has a field the API does not know: %v", err)
	}
	if c.Spec.MetricsServer != "http://10.0.0.1:9090" || c.Spec.Ledger == nil || !c.Spec.Ledger.Push ||
		c.Spec.Provider != v1alpha1.RouterKubernetes || c.Spec.TargetRef.Name != canaryName {
		t.Errorf("the Canary's spec is not what the step relies on: %+v", c.Spec)
	}
}

// The demo prints the summary of each ledger line, as the ledger writes it.
func TestNoteSummaries(t *testing.T) {
	e := canary.LedgerEntry{Time: time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC), Canary: "canary/app",
		Phase: v1alpha1.CanaryPhaseFailed, FailedChecks: 2, Message: "rolled back",
		Metrics: []v1alpha1.MetricResult{{Name: "request-success-rate", Value: "50", Message: "a\ttab"}}}
	line, err := ledger.Format(e)
	if err != nil {
		t.Fatal(err)
	}
	got := noteSummaries("\n" + line + "\n  a person's note\n\n")
	want := []string{"2026-12-03T18:00:00Z canary/app Failed weight 0% failed 2: rolled back", "a person's note"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("noteSummaries (-want +got):\n%s", diff)
	}
}

func TestRoundPercent(t *testing.T) {
	for in, want := range map[string]string{"100": "100%", "49.82142857": "49.82%", "NaN": "NaN%", "x": "x"} {
		if got := roundPercent(in); got != want {
			t.Errorf("roundPercent(%q) = %q, want %q", in, got, want)
		}
	}
}

// Each analysis step is one line: a mark, the phase, the counts and each
// check's value; the first step has no checks and says why.
func TestDescribeStep(t *testing.T) {
	spec := v1alpha1.CanarySpec{Analysis: v1alpha1.CanaryAnalysis{Iterations: 3, Threshold: 2}}
	for _, tc := range []struct {
		status v1alpha1.CanaryStatus
		want   string
	}{
		{v1alpha1.CanaryStatus{Phase: v1alpha1.CanaryPhaseProgressing, Iterations: 1},
			"  ✔ Progressing: iteration 1/3, failed checks 0/2: no checks at the first step, which sends the canary its first traffic"},
		{v1alpha1.CanaryStatus{Phase: v1alpha1.CanaryPhaseProgressing, Iterations: 2, LastMetrics: []v1alpha1.MetricResult{{Name: "request-success-rate", Value: "100", Passed: true}}},
			"  ✔ Progressing: iteration 2/3, failed checks 0/2: request-success-rate 100%"},
		{v1alpha1.CanaryStatus{Phase: v1alpha1.CanaryPhaseFailed, Iterations: 1, FailedChecks: 2, LastMetrics: []v1alpha1.MetricResult{{Name: "request-success-rate", Value: "60.316097"}, {Name: "request-duration"}}},
			"  ✘ Failed: iteration 1/3, failed checks 2/2: request-success-rate 60.32%, request-duration no value"},
	} {
		if got := describeStep(&v1alpha1.Canary{Spec: spec, Status: tc.status}); got != tc.want {
			t.Errorf("describeStep(%+v)\n got %q\nwant %q", tc.status, got, tc.want)
		}
	}
}
