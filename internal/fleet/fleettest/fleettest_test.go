package fleettest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilesAreDeterministic(t *testing.T) {
	o := Options{Clusters: 3, Objects: 40}
	if diff := cmp.Diff(Files(o), Files(o)); diff != "" {
		t.Errorf("two generations differ:\n%s", diff)
	}
}

func TestFilesHoldWhatTheTestsChange(t *testing.T) {
	files := Files(Options{Clusters: 3, Objects: 200})
	if !strings.Contains(files[SharedConfigMap], `value: "value-12"`) {
		t.Errorf("%s lacks the value the tests and the benchmark change", SharedConfigMap)
	}
	if !strings.Contains(files[Overlay(2)], "value: 2") {
		t.Errorf("%s lacks the replicas patch", Overlay(2))
	}
	for _, p := range RenderPaths(1) {
		if _, ok := files[p+"/kustomization.yaml"]; !ok {
			t.Errorf("render path %s has no kustomization", p)
		}
	}
	// 150 infrastructure objects, 5 of apps/base and 45 of the overlay.
	resources := strings.Count(files["infrastructure/base/kustomization.yaml"], "\n- ") + 5 + strings.Count(files[Overlay(1)], "\n- settings-")
	if resources != 200 {
		t.Errorf("a cluster renders %d objects, want 200", resources)
	}
}
