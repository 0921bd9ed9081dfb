package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// getNow is the instant the get tests' AGE column is measured against.
func getNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// readyCond is a Ready condition for generation 1.
func readyCond(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ReadyCondition, Status: status, Reason: reason, Message: message, ObservedGeneration: 1,
		LastTransitionTime: metav1.NewTime(getNow())}
}

// fixtureStack is a Stack created age before getNow, with a status.
func fixtureStack(ns, name string, age time.Duration, suspend bool, revision string, conds ...metav1.Condition) *v1alpha1.Stack {
	return &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(getNow().Add(-age))},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Interval:  metav1.Duration{Duration: time.Minute}, Prune: true, Suspend: suspend,
		},
		Status: v1alpha1.StackStatus{ObservedGeneration: 1, Conditions: conds, LastAppliedRevision: revision},
	}
}

// fixtureSource is a GitRepository created age before getNow, with a status.
func fixtureSource(ns, name string, age time.Duration, revision string, conds ...metav1.Condition) *v1alpha1.GitRepository {
	r := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(getNow().Add(-age))},
		Spec:       v1alpha1.GitRepositorySpec{URL: "https://git.example.com/fleet.git", Interval: metav1.Duration{Duration: time.Minute}},
		Status:     v1alpha1.GitRepositoryStatus{ObservedGeneration: 1, Conditions: conds},
	}
	if revision != "" {
		r.Status.Artifact = &v1alpha1.Artifact{Revision: revision, Digest: "sha256:00", Path: "x", LastUpdateTime: metav1.NewTime(getNow())}
	}
	return r
}

const (
	revMain = "main@sha1:1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"
	revTag  = "v1.2.0@sha1:0f9e8d7c6b5a49382716a5b4c3d2e1f009182736"
)

// fleetStacks are the Stacks of the table fixtures, per cluster.
func fleetStacks() map[string][]client.Object {
	return map[string][]client.Object{
		"prod-us-east": {
			fixtureStack("flotilla-system", "infra", 3*24*time.Hour, false, revMain,
				readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "applied revision "+revMain+": 12 unchanged")),
			fixtureStack("flotilla-system", "apps", 2*time.Hour, false, revMain,
				readyCond(metav1.ConditionFalse, v1alpha1.ReasonHealthCheckFailed,
					"Deployment shop/web did not become ready within 5m0s: 0 of 3 replicas available; the last one failed its readiness probe")),
		},
		"staging": {
			fixtureStack("team-a", "apps", 45*time.Second, true, revTag,
				readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "applied revision "+revTag+": 1 created")),
			fixtureStack("flotilla-system", "new", 5*time.Second, false, ""),
		},
	}
}

// fleetEntries are the rows of fleetStacks as collect returns them.
func fleetEntries(t *testing.T) []GetEntry {
	t.Helper()
	kind, err := kindFor("stacks")
	if err != nil {
		t.Fatal(err)
	}
	var entries []GetEntry
	for cluster, objs := range fleetStacks() {
		for _, obj := range objs {
			entries = append(entries, getEntry(cluster, kind, obj))
		}
	}
	sortGetEntries(entries)
	return entries
}

func TestGetTable(t *testing.T) {
	cases := []struct {
		name   string
		cols   getColumns
		golden string
	}{
		{"one cluster, one namespace", getColumns{}, "get-stacks-table.golden"},
		{"several clusters, every namespace", getColumns{Cluster: true, Namespace: true}, "get-stacks-fleet-table.golden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printGetTable(&out, palette{}, fleetEntries(t), tc.cols, getNow()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, out.String())
		})
	}
}

func TestGetTableColoursReadyAndKeepsColumnsAligned(t *testing.T) {
	var plain, coloured bytes.Buffer
	entries := fleetEntries(t)
	if err := printGetTable(&plain, palette{}, entries, getColumns{Cluster: true}, getNow()); err != nil {
		t.Fatal(err)
	}
	if err := printGetTable(&coloured, palette{on: true}, entries, getColumns{Cluster: true}, getNow()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\x1b[32mTrue\x1b[0m", "\x1b[31mFalse\x1b[0m", "\x1b[33mUnknown\x1b[0m"} {
		if !strings.Contains(coloured.String(), want) {
			t.Errorf("coloured table lacks %q:\n%s", want, coloured.String())
		}
	}
	if diff := cmp.Diff(plain.String(), stripANSI(coloured.String())); diff != "" {
		t.Errorf("the colours move the columns (-plain +coloured without escapes):\n%s", diff)
	}
}

// stripANSI removes the colour escapes of palette.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestGetStructured(t *testing.T) {
	for _, format := range []string{OutputJSON, OutputYAML} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			if err := printData(&out, format, fleetEntries(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, "get-stacks-fleet."+format+".golden", out.String())
		})
	}
}

func TestGetEntryOfASource(t *testing.T) {
	kind, _ := kindFor("source")
	src := fixtureSource("flotilla-system", "fleet", time.Hour, revMain,
		readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "stored artifact for revision "+revMain))
	got := getEntry("staging", kind, src)
	want := GetEntry{Cluster: "staging", Kind: "GitRepository", Namespace: "flotilla-system", Name: "fleet", Ready: "True",
		Reason: "Succeeded", Message: "stored artifact for revision " + revMain, Revision: revMain, Created: getNow().Add(-time.Hour)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("getEntry (-want +got):\n%s", diff)
	}
	if e := getEntry("", kind, fixtureSource("ns", "fresh", 0, "")); e.Ready != "Unknown" || e.Revision != "" {
		t.Errorf("a source never reconciled = %+v, want Ready Unknown and no revision", e)
	}
}

func TestShortRevision(t *testing.T) {
	cases := map[string]string{
		revMain:                          "main@sha1:1a2b3c4d",
		"sha1:1a2b3c4d5e6f":              "sha1:1a2b3c4d",
		"main@sha1:1a2b3c4d":             "main@sha1:1a2b3c4d",
		"":                               "",
		"v1.2.0":                         "v1.2.0",
		"sha256:0123456789abcdef0123456": "sha256:01234567",
	}
	for in, want := range cases {
		if got := shortRevision(in); got != want {
			t.Errorf("shortRevision(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindFor(t *testing.T) {
	for word, want := range map[string]string{
		"stack": "Stack", "stacks": "Stack", "Stack": "Stack", "st": "Stack",
		"source": "GitRepository", "sources": "GitRepository", "gitrepositories": "GitRepository",
		"gitrepository": "GitRepository", "GitRepository": "GitRepository",
	} {
		k, err := kindFor(word)
		if err != nil || k.Kind != want {
			t.Errorf("kindFor(%q) = %q, %v; want %s", word, k.Kind, err, want)
		}
	}
	if _, err := kindFor("deployments"); err == nil || !strings.Contains(err.Error(), "use source or stack") {
		t.Errorf("kindFor(deployments) = %v, want an error naming the kinds", err)
	}
}

func TestGetRefusesBadArguments(t *testing.T) {
	cases := []struct {
		name string
		o    GetOptions
		want string
	}{
		{"unknown kind", GetOptions{Kind: "pods"}, `unknown kind "pods"`},
		{"unknown output", GetOptions{Kind: "stacks", Output: "wide"}, `unknown output format "wide"`},
		{"a name with -A", GetOptions{Kind: "stacks", Name: "apps", Kube: KubeFlags{AllNamespaces: true}}, errNameWithAllNamespaces.Error()},
		{"both context flags", GetOptions{Kind: "stacks", AllContexts: true, Kube: KubeFlags{Context: "a"}}, "--all-contexts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Run(context.Background(), Streams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
