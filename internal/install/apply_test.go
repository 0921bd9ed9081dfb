package install

import (
	"errors"
	"io/fs"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/config"
	"github.com/flotilla-io/flotilla/internal/apply"
)

func owned(name, ns string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ServiceAccount")
	u.SetNamespace("flotilla-system")
	u.SetName(AgentName)
	if name != "" {
		SetOwner([]*unstructured.Unstructured{u}, name, ns)
	}
	return u
}

func TestMergeOwner(t *testing.T) {
	for _, tc := range []struct {
		name          string
		desired, live *unstructured.Unstructured
		want          string
		refused       bool
	}{
		{"unowned stays unowned", owned("", ""), owned("", ""), "", false},
		{"a claim on an unowned object is taken", owned("cluster", "flotilla-system"), owned("", ""), "flotilla-system/cluster", false},
		{"the same owner is kept", owned("cluster", "flotilla-system"), owned("cluster", "flotilla-system"), "flotilla-system/cluster", false},
		{"a plain install keeps the live owner", owned("", ""), owned("cluster", "flotilla-system"), "flotilla-system/cluster", false},
		{"another Stack's object is refused", owned("cluster", "team-a"), owned("cluster", "flotilla-system"), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mergeOwner(tc.desired, tc.live)
			if tc.refused {
				if !errors.Is(err, apply.ErrOwnedElsewhere) {
					t.Fatalf("err = %v, want ErrOwnedElsewhere", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ownerOf(tc.desired); got != tc.want {
				t.Errorf("owner = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestObjectsOrderAndLabels(t *testing.T) {
	o := DefaultOptions()
	o.ClusterAdmin = true
	objs, err := Objects(o)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, u := range objs {
		kinds = append(kinds, u.GetKind())
		if u.GetLabels()[PartOfLabel] != PartOf {
			t.Errorf("%s lacks %s", apply.MetadataOf(u), PartOfLabel)
		}
	}
	crds, err := fs.Glob(config.Manifests, config.CRDGlob)
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in the embedded manifests (%v)", err)
	}
	var want []string
	for range crds {
		want = append(want, "CustomResourceDefinition")
	}
	want = append(want, "Namespace", "ServiceAccount", "ClusterRole",
		"ClusterRoleBinding", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment")
	if len(kinds) != len(want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds = %v, want %v", kinds, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for name, mutate := range map[string]func(*Options){
		"bad namespace": func(o *Options) { o.Namespace = "Flotilla" },
		"no image":      func(o *Options) { o.Image = "" },
		"bad image":     func(o *Options) { o.Image = "ghcr.io/flotilla-io/flotilla:v0.1.0+dirty" },
		"no replicas":   func(o *Options) { o.Replicas = 0 },
	} {
		o := DefaultOptions()
		mutate(&o)
		if _, err := Objects(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
