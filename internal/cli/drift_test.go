package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// driftNow is the instant the tests' AGE column is measured against.
func driftNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// record is a drift record seen age before driftNow.
func record(object, manager, action string, age time.Duration, fields ...string) v1alpha1.DriftRecord {
	return v1alpha1.DriftRecord{Object: object, Fields: fields, Manager: manager, Action: action, Time: metav1.NewTime(driftNow().Add(-age))}
}

func stackWithDrift(namespace, name string, records ...v1alpha1.DriftRecord) v1alpha1.Stack {
	return v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: "GitRepository", Name: "fleet"},
			Interval:  metav1.Duration{Duration: time.Minute},
			Prune:     true,
		},
		Status: v1alpha1.StackStatus{Drift: records},
	}
}

// shopStacks are the Stacks of the table fixture: two with drift whose
// records interleave in time, one without.
func shopStacks(namespace string) []v1alpha1.Stack {
	return []v1alpha1.Stack{
		stackWithDrift(namespace, "apps",
			record("Deployment/shop/web", "kubectl-edit", "corrected", 5*time.Second, ".spec.replicas"),
			record("ConfigMap/shop/settings", "", "recreated", 2*time.Hour),
		),
		stackWithDrift(namespace, "infra",
			record("Service/shop/web", "kubectl-patch", "reported", 3*time.Minute,
				".metadata.labels.tier", ".metadata.annotations.owner", ".spec.ports[0].port", ".spec.selector.app"),
			record("Deployment/shop/worker", "helm", "corrected (failed: Forbidden)", 4*24*time.Hour,
				".spec.template.spec.containers[0].image"),
		),
		stackWithDrift(namespace, "quiet"),
	}
}

// createStacks creates a namespace of its own for the test, then the
// Stacks in it with their status.drift, and returns the namespace.
func createStacks(t *testing.T, stacks func(namespace string) []v1alpha1.Stack) string {
	t.Helper()
	controlplane.Require(t, env)
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "drift-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	for _, st := range stacks(ns.Name) {
		status := st.Status
		if err := env.Client.Create(ctx, &st); err != nil {
			t.Fatalf("creating Stack %s: %v", st.Name, err)
		}
		st.Status = status
		if err := env.Client.Status().Update(ctx, &st); err != nil {
			t.Fatalf("writing the status of Stack %s: %v", st.Name, err)
		}
	}
	return ns.Name
}

// runDrift runs o against the test control plane with the fixed clock and
// returns what it printed.
func runDrift(t *testing.T, o DriftOptions) (string, error) {
	t.Helper()
	o.Kube.Kubeconfig = env.Kubeconfig
	o.Now = driftNow
	var out bytes.Buffer
	err := o.Run(t.Context(), Streams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}})
	return out.String(), err
}

// rows splits a table into its rows, each a slice of its cells.
func rows(table string) [][]string {
	var out [][]string
	for line := range strings.Lines(table) {
		out = append(out, strings.Fields(line))
	}
	return out
}

func TestDriftEntriesNewestFirst(t *testing.T) {
	stacks := []v1alpha1.Stack{
		stackWithDrift("team-b", "apps",
			record("ConfigMap/b/one", "kubectl-edit", "corrected", time.Minute),
			record("ConfigMap/b/two", "kubectl-edit", "corrected", time.Hour)),
		stackWithDrift("team-a", "web",
			record("ConfigMap/a/same-instant-first", "helm", "reported", time.Minute),
			record("ConfigMap/a/same-instant-second", "helm", "reported", time.Minute),
			record("ConfigMap/a/newest", "helm", "reported", time.Second)),
		stackWithDrift("team-a", "quiet"),
	}
	var got []string
	for _, e := range driftEntries(stacks) {
		got = append(got, e.Namespace+"/"+e.Stack+" "+e.Object)
	}
	want := []string{
		"team-a/web ConfigMap/a/newest",
		"team-a/web ConfigMap/a/same-instant-first",
		"team-a/web ConfigMap/a/same-instant-second",
		"team-b/apps ConfigMap/b/one",
		"team-b/apps ConfigMap/b/two",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestDriftEntriesOfNoStacksAreAnEmptyList(t *testing.T) {
	got := driftEntries(nil)
	if got == nil || len(got) != 0 {
		t.Errorf("driftEntries(nil) = %#v, want an empty, non-nil list (json [], not null)", got)
	}
}

func TestDriftRefusesBadArguments(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown output format", []string{"drift", "-o", "xml"}, `unknown output format "xml": use table, json or yaml`},
		{"a Stack name across all namespaces", []string{"drift", "apps", "-A"}, "NAME and --all-namespaces do not go together"},
		{"two Stack names", []string{"drift", "apps", "infra"}, "accepts at most 1 arg"},
		{"missing kubeconfig file", []string{"drift", "--kubeconfig", "/nonexistent/kubeconfig"}, "loading kubeconfig /nonexistent/kubeconfig"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDriftTable(t *testing.T) {
	ns := createStacks(t, shopStacks)
	out, err := runDrift(t, DriftOptions{Kube: KubeFlags{Namespace: ns}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "drift-table.golden", out)
}

func TestDriftOneStack(t *testing.T) {
	ns := createStacks(t, shopStacks)
	out, err := runDrift(t, DriftOptions{Kube: KubeFlags{Namespace: ns}, Stack: "infra"})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, r := range rows(out)[1:] {
		got = append(got, r[:2])
	}
	want := [][]string{{"infra", "Service/shop/web"}, {"infra", "Deployment/shop/worker"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s\n%s", diff, out)
	}
}

func TestDriftAllNamespaces(t *testing.T) {
	nsA := createStacks(t, func(ns string) []v1alpha1.Stack {
		return []v1alpha1.Stack{stackWithDrift(ns, "apps",
			record("ConfigMap/a/newer", "kubectl-edit", "corrected", 10*time.Second, ".data.x"),
			record("ConfigMap/a/older", "kubectl-edit", "corrected", 3*time.Hour, ".data.y"))}
	})
	nsB := createStacks(t, func(ns string) []v1alpha1.Stack {
		return []v1alpha1.Stack{stackWithDrift(ns, "apps",
			record("ConfigMap/b/middle", "helm", "reported", 20*time.Minute, ".data.z"))}
	})
	out, err := runDrift(t, DriftOptions{Kube: KubeFlags{AllNamespaces: true}})
	if err != nil {
		t.Fatal(err)
	}
	all := rows(out)
	if diff := cmp.Diff([]string{"STACK", "OBJECT", "FIELDS", "MANAGER", "ACTION", "AGE"}, all[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	var got [][]string // other tests' Stacks share the control plane: keep this test's
	for _, r := range all[1:] {
		if strings.HasPrefix(r[0], nsA+"/") || strings.HasPrefix(r[0], nsB+"/") {
			got = append(got, r)
		}
	}
	want := [][]string{
		{nsA + "/apps", "ConfigMap/a/newer", ".data.x", "kubectl-edit", "corrected", "10s"},
		{nsB + "/apps", "ConfigMap/b/middle", ".data.z", "helm", "reported", "20m"},
		{nsA + "/apps", "ConfigMap/a/older", ".data.y", "kubectl-edit", "corrected", "3h"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s\n%s", diff, out)
	}
}

func TestDriftStructured(t *testing.T) {
	ns := createStacks(t, shopStacks)
	at := func(age time.Duration) time.Time { return driftNow().Add(-age) }
	want := []DriftEntry{
		{Stack: "apps", Namespace: ns, Object: "Deployment/shop/web", Fields: []string{".spec.replicas"}, Manager: "kubectl-edit", Action: "corrected", Time: at(5 * time.Second)},
		{Stack: "infra", Namespace: ns, Object: "Service/shop/web", Fields: []string{".metadata.labels.tier", ".metadata.annotations.owner", ".spec.ports[0].port", ".spec.selector.app"}, Manager: "kubectl-patch", Action: "reported", Time: at(3 * time.Minute)},
		{Stack: "apps", Namespace: ns, Object: "ConfigMap/shop/settings", Fields: []string{}, Manager: "", Action: "recreated", Time: at(2 * time.Hour)},
		{Stack: "infra", Namespace: ns, Object: "Deployment/shop/worker", Fields: []string{".spec.template.spec.containers[0].image"}, Manager: "helm", Action: "corrected (failed: Forbidden)", Time: at(4 * 24 * time.Hour)},
	}
	cases := []struct {
		format    string
		unmarshal func([]byte, any) error
	}{
		{"json", json.Unmarshal},
		{"yaml", func(b []byte, v any) error { return yaml.Unmarshal(b, v) }},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			out, _, err := run(t, "drift", "-n", ns, "-o", tc.format, "--kubeconfig", env.Kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			var got []DriftEntry
			if err := tc.unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("parsing %s: %v\n%s", tc.format, err, out)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriftUnknownStack(t *testing.T) {
	ns := createStacks(t, shopStacks)
	cases := []struct {
		name, stack, want, suggestion string
	}{
		{"a typo gets a suggestion", "infar", "Stack " + ns + "/infar not found; did you mean infra?", "infra"},
		{"a name like no other gets none", "payments", "Stack " + ns + "/payments not found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, "drift", tc.stack, "-n", ns, "--kubeconfig", env.Kubeconfig)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) || nf.Suggestion != tc.suggestion || !apierrors.IsNotFound(err) {
				t.Errorf("err = %#v, want a *NotFoundError suggesting %q that wraps the API server's NotFound", err, tc.suggestion)
			}
		})
	}
}

func TestDriftEmpty(t *testing.T) {
	quiet := createStacks(t, func(ns string) []v1alpha1.Stack { return []v1alpha1.Stack{stackWithDrift(ns, "quiet")} })
	empty := createStacks(t, func(string) []v1alpha1.Stack { return nil })
	cases := []struct {
		name string
		o    DriftOptions
		want string
	}{
		{"a namespace whose Stacks have no drift", DriftOptions{Kube: KubeFlags{Namespace: quiet}}, noDrift + "\n"},
		{"a Stack without drift", DriftOptions{Kube: KubeFlags{Namespace: quiet}, Stack: "quiet"}, noDrift + "\n"},
		{"a namespace without Stacks", DriftOptions{Kube: KubeFlags{Namespace: empty}}, noDrift + "\n"},
		{"json", DriftOptions{Kube: KubeFlags{Namespace: quiet}, Output: OutputJSON}, "[]\n"},
		{"yaml", DriftOptions{Kube: KubeFlags{Namespace: quiet}, Output: OutputYAML}, "[]\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runDrift(t, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.want {
				t.Errorf("output = %q, want %q", out, tc.want)
			}
		})
	}
}

func TestDriftUnknownContext(t *testing.T) {
	controlplane.Require(t, env)
	_, _, err := run(t, "drift", "--kubeconfig", env.Kubeconfig, "--context", "nope")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want it to name the missing context", err)
	}
}
