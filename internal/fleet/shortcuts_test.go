package fleet

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// exhaustive turns every shortcut of the plan off.
func exhaustive(o *Options) { o.exhaustive = true }

// planBothWays plans base against head of the repository at dir with every
// shortcut (Stacks skipped when their inputs did not change, renders
// cached, bases rendered once and substituted per cluster) and with none:
// every Stack rendered at both revisions from the whole tree. The two plans
// must read the same in every format. It returns the plan with shortcuts.
func planBothWays(t *testing.T, dir, base, head string) *Result {
	t.Helper()
	fast := planRepo(t, dir, base, head)
	slow := planRepo(t, dir, base, head, exhaustive)
	if slow.Renders.Reused != 0 || slow.Renders.Substituted != 0 {
		t.Fatalf("the plan without shortcuts took one: %+v", slow.Renders)
	}
	f, s := outputs(t, fast), outputs(t, slow)
	for _, format := range []string{"text", "markdown", "json"} {
		if diff := cmp.Diff(s[format], f[format]); diff != "" {
			t.Errorf("%s: the plan with shortcuts differs from the plan without (-without +with):\n%s", format, diff)
		}
	}
	return fast
}

// small is the generated fleet of the shortcut tests: the plan without
// shortcuts renders every Stack of every cluster at both revisions.
var small = fleettest.Options{Clusters: 6, Objects: 30}

func TestShortcutsKeepThePlan(t *testing.T) {
	files := fleettest.Files(small)
	apps := "clusters/" + fleettest.ClusterName(3) + "/apps.yaml"
	numeric := "clusters/" + fleettest.ClusterName(1) + "/apps.yaml"
	cases := []struct {
		name string
		head map[string]string
		// changed is how many clusters change; substituted whether
		// renders are made from a shared render.
		changed     int
		substituted bool
		check       func(t *testing.T, res *Result)
	}{{
		name:        "a file reached only through a base",
		head:        map[string]string{"apps/base/configmap.yaml": edit(t, files, "apps/base/configmap.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")},
		changed:     small.Clusters,
		substituted: true,
	}, {
		name:        "the shared infrastructure base",
		head:        map[string]string{fleettest.SharedConfigMap: edit(t, files, fleettest.SharedConfigMap, `value: "value-12"`, `value: "value-changed"`)},
		changed:     small.Clusters,
		substituted: true,
	}, {
		name:        "only a variable",
		head:        map[string]string{apps: edit(t, files, apps, "CLUSTER_REGION: region-3", "CLUSTER_REGION: region-moved")},
		changed:     1,
		substituted: true,
		check: func(t *testing.T, res *Result) {
			if st := statuses(res)[fleettest.ClusterName(3)]; st != ClusterChanged {
				t.Errorf("%s is %s, want changed", fleettest.ClusterName(3), st)
			}
		},
	}, {
		name:    "a file no render reaches",
		head:    map[string]string{"docs/README.md": "how this fleet works\n", "apps/overlays/retired/settings.yaml": "kind: ConfigMap\n"},
		changed: 0,
		check: func(t *testing.T, res *Result) {
			// Each root renders once; no Stack is rendered.
			if got, want := res.Renders, (RenderStats{Builds: int64(small.Clusters), Reused: int64(small.Clusters)}); got != want {
				t.Errorf("renders = %+v, want %+v", got, want)
			}
		},
	}, {
		name:        "a variable YAML types as a number, which the shared render cannot hold",
		head:        map[string]string{numeric: edit(t, files, numeric, "CLUSTER_REGION: region-1", `CLUSTER_REGION: "7"`)},
		changed:     1,
		substituted: true, // at the base
		check: func(t *testing.T, res *Result) {
			// The roots (cluster-01's at both revisions), the apps base
			// with placeholders, and cluster-01's apps at head on its own.
			if got, want := res.Renders, (RenderStats{Builds: int64(small.Clusters) + 3, Reused: int64(small.Clusters) - 1, Substituted: 1}); got != want {
				t.Errorf("renders = %+v, want %+v", got, want)
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := planBothWays(t, repoWith(t, files, tc.head), "HEAD~1", "HEAD")
			if changed, _, failed := res.Count(); changed != tc.changed || failed != 0 {
				t.Errorf("changed/failed = %d/%d, want %d/0", changed, failed, tc.changed)
			}
			if got := res.Renders.Substituted > 0; got != tc.substituted {
				t.Errorf("renders = %+v: made from a shared render %v, want %v", res.Renders, got, tc.substituted)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

func TestShortcutsKeepThePlanOfTheExampleFleet(t *testing.T) {
	files := exampleFleet(t)
	const cm = "apps/base/hello/configmap.yaml"
	const apps = "clusters/prod-us-east/apps.yaml"
	cases := map[string]map[string]string{
		"a base":    {cm: edit(t, files, cm, "LEVEL: info", "LEVEL: debug")},
		"variables": {apps: edit(t, files, apps, "CLUSTER_REGION: us-east-1", "CLUSTER_REGION: us-east-2")},
		"nothing":   {"README.md": "the fleet\n"},
	}
	for name, head := range cases {
		t.Run(name, func(t *testing.T) {
			planBothWays(t, repoWith(t, files, head), "HEAD~1", "HEAD")
		})
	}
}
