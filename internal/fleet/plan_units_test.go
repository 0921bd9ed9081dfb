package fleet

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/render"
)

func TestOptionsWithDefaults(t *testing.T) {
	got := Options{}.withDefaults()
	if got.Source != (SourceRef{Namespace: DefaultNamespace, Name: DefaultSource}) || got.WarnClusters != DefaultWarnClusters || got.Parallelism != runtime.GOMAXPROCS(0) {
		t.Errorf("defaults = source %v, warn %d, parallelism %d", got.Source, got.WarnClusters, got.Parallelism)
	}
	set := Options{Source: SourceRef{Namespace: "ops", Name: "repo"}, WarnClusters: -1, Parallelism: 3}.withDefaults()
	if set.Source.Name != "repo" || set.WarnClusters != -1 || set.Parallelism != 3 {
		t.Errorf("withDefaults overrode given options: %+v", set)
	}
}

func TestClusterNamesOfBothRevisions(t *testing.T) {
	base := snapshotOf("clusters/prod/kustomization.yaml", "clusters/old/kustomization.yaml")
	head := snapshotOf("clusters/prod/kustomization.yaml", "clusters/new/kustomization.yaml")
	if diff := cmp.Diff([]string{"new", "old", "prod"}, clusterNames(base, head)); diff != "" {
		t.Errorf("cluster names (-want +got):\n%s", diff)
	}
}

func TestWarnReach(t *testing.T) {
	clusters := func(changed, failed, unchanged int) []ClusterPlan {
		var out []ClusterPlan
		for i := range changed {
			out = append(out, ClusterPlan{Name: fmt.Sprint("c", i), Status: ClusterChanged})
		}
		for i := range failed {
			out = append(out, ClusterPlan{Name: fmt.Sprint("f", i), Status: ClusterFailed})
		}
		for i := range unchanged {
			out = append(out, ClusterPlan{Name: fmt.Sprint("u", i), Status: ClusterUnchanged})
		}
		return out
	}
	for _, tc := range []struct {
		name                       string
		limit                      int
		changed, failed, unchanged int
		want                       string
	}{
		{"at the limit: no warning", 3, 3, 0, 5, ""},
		{"over it, failures count", 3, 3, 1, 5, "this change reaches 4 of 9 clusters (more than 3): consider rolling it out in steps"},
		{"a negative limit turns it off", -1, 50, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &planner{o: Options{WarnClusters: tc.limit}}
			res := &Result{Clusters: clusters(tc.changed, tc.failed, tc.unchanged)}
			p.warnReach(res)
			var got string
			if len(res.Warnings) > 0 {
				if res.Warnings[0].Kind != WarnWide || len(res.Warnings) != 1 {
					t.Errorf("warnings = %+v", res.Warnings)
				}
				got = res.Warnings[0].Message
			}
			if got != tc.want {
				t.Errorf("warning = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClusterPlanFinish(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stacks   []StackPlan
		failures []Failure
		want     ClusterStatus
	}{
		{"nothing changes", []StackPlan{{Status: StackUnchanged}, {Status: StackNotPlanned}}, nil, ClusterUnchanged},
		{"an object changes", []StackPlan{{Status: StackChanged, Changed: []ObjectChange{{}}}}, nil, ClusterChanged},
		{"an empty Stack is added", []StackPlan{{Status: StackAdded}}, nil, ClusterChanged},
		{"an empty Stack is removed", []StackPlan{{Status: StackRemoved}}, nil, ClusterChanged},
		{"a failure wins over changes", []StackPlan{{Status: StackAdded}}, []Failure{{Message: "x"}}, ClusterFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := &ClusterPlan{Stacks: tc.stacks, Failures: tc.failures}
			cp.finish()
			if cp.Status != tc.want {
				t.Errorf("status = %s, want %s", cp.Status, tc.want)
			}
		})
	}
}

func TestFailureOfLocatesTheRenderError(t *testing.T) {
	st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Path: "apps/prod"}}
	located := side{stack: st, reason: "bad patch", err: fmt.Errorf("rendering: %w", &render.Error{Path: "apps/base/kustomization.yaml", Line: 7, Err: errors.New("bad")})}
	want := Failure{Cluster: "prod", Stack: "apps", Path: "apps/base/kustomization.yaml", Line: 7, Message: "bad patch"}
	if diff := cmp.Diff(want, failureOf("prod", "apps", located)); diff != "" {
		t.Errorf("failure (-want +got):\n%s", diff)
	}
	plain := side{stack: st, reason: "path not found", err: errors.New("no such directory")}
	want = Failure{Cluster: "prod", Stack: "apps", Path: "apps/prod", Message: "path not found"}
	if diff := cmp.Diff(want, failureOf("prod", "apps", plain)); diff != "" {
		t.Errorf("failure without a location (-want +got):\n%s", diff)
	}
	if got := want.Location(); got != "apps/prod" {
		t.Errorf("Location without a line = %q", got)
	}
}

func TestSidesUnchanged(t *testing.T) {
	st := &v1alpha1.Stack{}
	p := &planner{}
	unchanged := p.unchanged
	a, b := side{stack: st, job: job{key: "k"}}, side{stack: st, job: job{key: "k"}}
	if !unchanged(a, b) {
		t.Error("two rendered sides of one key are not unchanged")
	}
	b.job.key = "other"
	if unchanged(a, b) {
		t.Error("sides of different inputs are unchanged")
	}
	failed := side{stack: st, status: StackFailed, job: job{key: "k"}}
	if unchanged(a, failed) || (side{}).ok() {
		t.Error("a failed or absent side counts as rendered")
	}
}

func TestRenderKeyIgnoresTheRootOnly(t *testing.T) {
	a := renderKey("digest", render.Options{Root: "/tmp/a", Path: "apps"})
	if a != renderKey("digest", render.Options{Root: "/tmp/b", Path: "apps"}) {
		t.Error("two checkouts of the same inputs render under different keys: the cache would never hit")
	}
	for name, other := range map[string]string{
		"another path":     renderKey("digest", render.Options{Root: "/tmp/a", Path: "infra"}),
		"other inputs":     renderKey("digest2", render.Options{Root: "/tmp/a", Path: "apps"}),
		"a namespace":      renderKey("digest", render.Options{Path: "apps", TargetNamespace: "x"}),
		"substitutions on": renderKey("digest", render.Options{Path: "apps", Substitute: map[string]string{}}),
	} {
		if other == a {
			t.Errorf("%s renders under the same key", name)
		}
	}
}
