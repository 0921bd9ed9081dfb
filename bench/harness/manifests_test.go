package harness

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

type manifest struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
	Spec struct {
		ClusterIP string `json:"clusterIP"`
	} `json:"spec"`
}

func parse(t *testing.T, files map[string]string) map[string]manifest {
	t.Helper()
	out := map[string]manifest{}
	for p, doc := range files {
		var m manifest
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[p] = m
	}
	return out
}

func TestConfigMaps(t *testing.T) {
	files := ConfigMaps("revert", "bench", "settings", 3, "from-git")
	got := parse(t, files)
	if len(got) != 3 {
		t.Fatalf("%d files, want 3", len(got))
	}
	m := got["revert/settings-001.yaml"]
	if m.Kind != "ConfigMap" || m.Metadata.Name != "settings-001" || m.Metadata.Namespace != "bench" || m.Data["value"] != "from-git" {
		t.Errorf("settings-001 = %+v", m)
	}
}

func TestFleetSpreadsKindsAndNamespaces(t *testing.T) {
	files := Fleet("scale", "bench-scale", 4, 30)
	kinds := map[string]int{}
	perNamespace := map[string]int{}
	for p, m := range parse(t, files) {
		kinds[m.Kind]++
		if m.Kind == "Namespace" {
			if !strings.HasPrefix(p, "scale/namespaces/") {
				t.Errorf("namespace %s at %s", m.Metadata.Name, p)
			}
			continue
		}
		perNamespace[m.Metadata.Namespace]++
		if want := "scale/" + m.Metadata.Namespace + "/" + m.Metadata.Name + ".yaml"; p != want {
			t.Errorf("%s/%s at %s, want %s", m.Kind, m.Metadata.Name, p, want)
		}
		if m.Kind == "Service" && m.Spec.ClusterIP != "None" {
			t.Errorf("service %s is not headless", m.Metadata.Name)
		}
	}
	if diff := cmp.Diff(map[string]int{"Namespace": 4, "ConfigMap": 10, "Service": 10, "ServiceAccount": 10}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"bench-scale-0": 8, "bench-scale-1": 8, "bench-scale-2": 7, "bench-scale-3": 7}, perNamespace); diff != "" {
		t.Errorf("objects per namespace (-want +got):\n%s", diff)
	}
}
