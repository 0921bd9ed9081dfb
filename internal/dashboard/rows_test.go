package dashboard

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestStackRowsReadASourceOfAnotherNamespace(t *testing.T) {
	st := v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apps"}}
	st.Spec.SourceRef = v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Namespace: "flux-system", Name: "fleet"}
	src := func(ns, rev string) v1alpha1.GitRepository {
		g := v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"}}
		g.Status.Artifact = &v1alpha1.Artifact{Revision: rev}
		return g
	}
	rows := stackRows([]v1alpha1.Stack{st}, []v1alpha1.GitRepository{src("team-a", "main@sha1:local"), src("flux-system", "main@sha1:shared")}, noBehind, t0)
	if len(rows) != 1 || rows[0].SourceRevision != "main@sha1:shared" {
		t.Errorf("rows = %+v, want the revision of flux-system/fleet, the sourceRef's namespace", rows)
	}
	if empty := stackRows(nil, nil, noBehind, t0); empty == nil || len(empty) != 0 {
		t.Errorf("rows of no Stack = %#v, want [] in JSON", empty)
	}
}

func TestGroupByNamespaceSortsByKindThenName(t *testing.T) {
	tree := groupByNamespace([]ObjectNode{
		{Kind: "Service", Namespace: "web", Name: "a"},
		{Kind: "Deployment", Namespace: "web", Name: "z"},
		{Kind: "Deployment", Namespace: "web", Name: "b"},
		{Kind: "ClusterRole", Name: "reader"},
		{Kind: "Namespace", Name: "web"},
		{Kind: "ConfigMap", Namespace: "api", Name: "cfg"},
	})
	var got [][]string
	for _, ns := range tree {
		names := []string{"ns=" + ns.Namespace}
		for _, o := range ns.Objects {
			names = append(names, o.Kind+"/"+o.Name)
		}
		got = append(got, names)
	}
	want := [][]string{
		{"ns=", "ClusterRole/reader", "Namespace/web"},
		{"ns=api", "ConfigMap/cfg"},
		{"ns=web", "Deployment/b", "Deployment/z", "Service/a"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

func TestCanaryHistoryRecordsAPhaseChangeAtTheSameWeight(t *testing.T) {
	h := newCanaryHistory()
	c := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	var want []string
	for _, step := range []struct {
		weight int
		phase  string
		kept   bool
	}{
		{0, "Initialized", true},
		{0, "Initialized", false},
		{0, "Progressing", true},
		{10, "Progressing", true},
		{10, "Progressing", false},
		{0, "Failed", true},
		{0, "Progressing", true},
	} {
		c.Status.CanaryWeight, c.Status.Phase = step.weight, v1alpha1.CanaryPhase(step.phase)
		h.record("prod", c, false)
		if step.kept {
			want = append(want, fmt.Sprint(step.weight, step.phase))
		}
	}
	var got []string
	for _, p := range h.of("prod", "apps", "web") {
		got = append(got, fmt.Sprint(p.Weight, p.Phase))
		if p.Time.Location().String() != "UTC" {
			t.Errorf("point at %v, want UTC", p.Time)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if pts := h.of("prod", "apps", "other"); pts != nil {
		t.Errorf("history of an unknown canary = %v, want none", pts)
	}
}

func TestKindErrorOfAMissingKindAndOtherErrors(t *testing.T) {
	noMatch := &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "flotilla.io", Kind: "ImageUpdate"}, SearchedVersions: []string{"v1alpha1"}}
	if got, want := kindError("imageupdates", fmt.Errorf("listing: %w", noMatch)).Error(), "imageupdates: not installed: the cluster has no CRD for them"; got != want {
		t.Errorf("kindError of a kind the cluster lacks = %q, want %q", got, want)
	}
	cause := errors.New("dial tcp: connection refused")
	err := kindError("stacks", cause)
	if err.Error() != "stacks: dial tcp: connection refused" || !errors.Is(err, cause) {
		t.Errorf("kindError of another error = %v, want it named by the kind and wrapping the cause", err)
	}
}

func TestIsLoopbackName(t *testing.T) {
	for name, want := range map[string]bool{
		"localhost":             true,
		"127.0.0.1":             true,
		"127.255.255.254":       true,
		"::1":                   true,
		"LOCALHOST":             false,
		"localhost.example.com": false,
		"0.0.0.0":               false,
		"::":                    false,
		"192.168.1.5":           false,
		"":                      false,
	} {
		if got := isLoopbackName(name); got != want {
			t.Errorf("isLoopbackName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSetHosts(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want []string
	}{
		{"127.0.0.1:9400", []string{"127.0.0.1:9400", "localhost:9400", "127.0.0.1:9400", "[::1]:9400", "127.0.0.1:9400"}},
		{"[::]:9400", []string{"[::]:9400", "localhost:9400", "127.0.0.1:9400", "[::1]:9400"}},
		{"dash.local:9400", []string{"dash.local:9400", "localhost:9400", "127.0.0.1:9400", "[::1]:9400", "dash.local:9400"}},
	} {
		s := &Server{}
		s.setHosts(tc.addr)
		if diff := cmp.Diff(tc.want, s.hosts); diff != "" {
			t.Errorf("hosts of a listener on %s (-want +got):\n%s", tc.addr, diff)
		}
	}
}
