package fleet

import (
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// fifty is the generated fleet of the tests: 50 clusters, small objects
// counts so the tests stay quick (the benchmark uses 200).
var fifty = fleettest.Options{Clusters: 50, Objects: 40}

func TestPlanGeneratedFleetBaseChangeReachesEveryCluster(t *testing.T) {
	files := fleettest.Files(fifty)
	head := map[string]string{fleettest.SharedConfigMap: edit(t, files, fleettest.SharedConfigMap, `value: "value-12"`, `value: "value-changed"`)}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	changed, unchanged, failed := res.Count()
	if changed != 50 || unchanged != 0 || failed != 0 {
		t.Fatalf("changed/unchanged/failed = %d/%d/%d, want 50/0/0", changed, unchanged, failed)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Kind != WarnWide {
		t.Errorf("fleet warnings = %+v, want one about the change's reach", res.Warnings)
	}
	// Each cluster's root renders once (the same at both revisions); the
	// infrastructure base renders once per revision, and each cluster's
	// infrastructure at both is made from it with the cluster's variables;
	// the apps overlays did not change, so they are not rendered at all.
	if got, want := res.Renders, (RenderStats{Builds: 52, Reused: 50, Substituted: 100}); got != want {
		t.Errorf("renders = %+v, want %+v", got, want)
	}
	outs := outputs(t, res)
	golden(t, "generated-base-change.txt", outs["text"])
	golden(t, "generated-base-change.md", outs["markdown"])
}

func TestPlanGeneratedFleetOverlayChangeReachesOneCluster(t *testing.T) {
	files := fleettest.Files(fifty)
	o := fleettest.Overlay(7)
	head := map[string]string{o: edit(t, files, o, "value: 2", "value: 3")}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	changed, unchanged, _ := res.Count()
	if changed != 1 || unchanged != 49 {
		t.Fatalf("changed/unchanged = %d/%d, want 1/49", changed, unchanged)
	}
	if got := res.Renders; got.Builds != 52 {
		t.Errorf("renders = %+v, want 52 builds: each root once, cluster-07's overlay at both revisions", got)
	}
	golden(t, "generated-overlay-change.txt", outputs(t, res)["text"])
}

func TestPlanGeneratedFleetBrokenOverlayNamesTheCluster(t *testing.T) {
	files := fleettest.Files(fifty)
	o := fleettest.Overlay(23)
	head := map[string]string{o: edit(t, files, o, "resources:\n", "resources:\n- ../../missing-base\n")}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	text := outputs(t, res)["text"]
	for _, want := range []string{"1 of 50 clusters would fail to render", "x cluster-23 / apps: render " + o + ":4:"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if _, unchanged, failed := res.Count(); failed != 1 || unchanged != 49 {
		t.Errorf("failed/unchanged = %d/%d, want 1/49", failed, unchanged)
	}
}
