package install

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/internal/apply"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// pinnedOptions are options whose output does not depend on the binary's
// version, for golden files.
func pinnedOptions() Options {
	return Options{Namespace: "ops", Image: "registry.example.com/flotilla:v1.2.3", Replicas: 2, Version: "v1.2.3"}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is out of date (-want +got), run go test -update if the change is intended:\n%s", path, diff)
	}
}

// withoutGenerated drops the CustomResourceDefinitions and the ClusterRole,
// generated from markers (config/), which change with every API field or
// RBAC marker and have their own check in verify-generate.
func withoutGenerated(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	_, rest := splitCRDs(objs)
	var out []*unstructured.Unstructured
	for _, u := range rest {
		if u.GetKind() != "ClusterRole" {
			out = append(out, u)
		}
	}
	return out
}

func TestObjectsGolden(t *testing.T) {
	for _, tc := range []struct {
		name         string
		clusterAdmin bool
	}{
		{"least-privilege", false},
		{"cluster-admin", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pinnedOptions()
			o.ClusterAdmin = tc.clusterAdmin
			objs, err := Objects(o)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, withoutGenerated(objs)); err != nil {
				t.Fatal(err)
			}
			golden(t, "objects-"+tc.name+".yaml", buf.Bytes())
		})
	}
}

func TestObjectsAreAllInTheChosenNamespaceOrClusterScoped(t *testing.T) {
	objs, err := Objects(pinnedOptions())
	if err != nil {
		t.Fatal(err)
	}
	clusterScoped := map[string]bool{"CustomResourceDefinition": true, "Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true}
	for _, u := range objs {
		m := apply.MetadataOf(u)
		switch {
		case clusterScoped[m.Kind] && m.Namespace != "":
			t.Errorf("%s is cluster-scoped but has a namespace", m)
		case !clusterScoped[m.Kind] && m.Namespace != "ops":
			t.Errorf("%s is not in the namespace ops", m)
		}
		if got := u.GetLabels()[VersionLabel]; got != "v1.2.3" {
			t.Errorf("%s version label = %q, want v1.2.3", m, got)
		}
	}
}

func TestBindingNamesCarryTheNamespace(t *testing.T) {
	if a, b := ClusterRoleBindingName("team-a"), ClusterRoleBindingName("team-b"); a == b {
		t.Errorf("two namespaces share the ClusterRoleBinding %q", a)
	}
	if a, b := ClusterAdminBindingName("team-a"), ClusterRoleBindingName("team-a"); a == b {
		t.Errorf("the cluster-admin binding and the agent's binding share the name %q", a)
	}
}

func TestRBACSubjectsAreTheAgentsServiceAccount(t *testing.T) {
	o := pinnedOptions()
	o.ClusterAdmin = true
	for _, obj := range o.rbac() {
		u, err := toUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
		want := []any{map[string]any{"kind": "ServiceAccount", "name": AgentName, "namespace": "ops"}}
		if diff := cmp.Diff(want, subjects); diff != "" && u.GetKind() != "Role" {
			t.Errorf("%s subjects (-want +got):\n%s", u.GetKind(), diff)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		extra   map[string]string
		want    map[string]string
	}{
		{"a release version is a label", "v1.2.3", nil,
			map[string]string{PartOfLabel: PartOf, ComponentLabel: "agent", VersionLabel: "v1.2.3"}},
		{"no version, no version label", "", nil,
			map[string]string{PartOfLabel: PartOf, ComponentLabel: "agent"}},
		{"a version that is not a label value is left out", "v0.0.0-2026+dirty", nil,
			map[string]string{PartOfLabel: PartOf, ComponentLabel: "agent"}},
		{"a version longer than 63 characters is left out", strings.Repeat("v", 64), nil,
			map[string]string{PartOfLabel: PartOf, ComponentLabel: "agent"}},
		{"extra labels are added", "v1", map[string]string{NameLabel: AgentName},
			map[string]string{PartOfLabel: PartOf, ComponentLabel: "agent", VersionLabel: "v1", NameLabel: AgentName}},
		{"an object's own component label wins", "v1", map[string]string{ComponentLabel: "crd"},
			map[string]string{PartOfLabel: PartOf, ComponentLabel: "crd", VersionLabel: "v1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pinnedOptions()
			o.Version = tc.version
			if diff := cmp.Diff(tc.want, o.labels(tc.extra)); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploymentIsRestricted(t *testing.T) {
	o := pinnedOptions()
	d := o.deployment()
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", *d.Spec.Replicas)
	}
	sel := d.Spec.Selector.MatchLabels
	for k, v := range sel {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the pod template lacks the selector label %s=%s: the Deployment would select no pod", k, v)
		}
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != AgentName {
		t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, AgentName)
	}
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context is not restricted: %+v", sc)
	}
	if c.Image != o.Image {
		t.Errorf("image = %q, want %q", c.Image, o.Image)
	}
	for _, want := range []string{"--leader-elect", "--leader-election-namespace=ops", "--data-dir=/data"} {
		if !contains(c.Args, want) {
			t.Errorf("args %q lack %q", c.Args, want)
		}
	}
	// A read-only root filesystem needs every written path mounted.
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		if !volumes[m.Name] {
			t.Errorf("mount %s names no volume", m.Name)
		}
		mounts[m.MountPath] = m.Name
	}
	for _, path := range []string{"/data", "/tmp"} {
		if mounts[path] == "" {
			t.Errorf("%s is not mounted on a writable volume", path)
		}
	}
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if name := p.HTTPGet.Port.StrVal; !ports[name] {
			t.Errorf("probe %s uses port %q, which the container does not declare", p.HTTPGet.Path, name)
		}
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources are not bounded: %+v", c.Resources)
	}
}

func TestDeploymentUnstructuredDropsEmptyStrategy(t *testing.T) {
	u, err := toUnstructured(pinnedOptions().deployment())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "strategy"); ok {
		t.Error("spec.strategy: {} is kept; server-side apply would own an empty field")
	}
	if _, ok := u.Object["status"]; ok {
		t.Error("the Deployment carries a status")
	}
	var back appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &back); err != nil {
		t.Fatalf("the unstructured Deployment does not convert back: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		wantNames []string
		wantErr   bool
	}{
		{"empty input", "", nil, false},
		{"a single document", "kind: ConfigMap\nmetadata:\n  name: a\n", []string{"a"}, false},
		{"empty documents are skipped", "---\n---\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# only a comment\n---\nkind: ConfigMap\nmetadata:\n  name: b\n", []string{"a", "b"}, false},
		{"json is read as yaml", `{"kind": "ConfigMap", "metadata": {"name": "j"}}`, []string{"j"}, false},
		{"a broken document fails", "kind: ConfigMap\nmetadata: [\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := decode([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			var names []string
			for _, u := range objs {
				names = append(names, u.GetName())
			}
			if diff := cmp.Diff(tc.wantNames, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmbeddedUnknownGlobIsEmpty(t *testing.T) {
	objs, err := embedded("no-such-dir/*.yaml")
	if err != nil || len(objs) != 0 {
		t.Errorf("embedded(no match) = %d objects, %v; want none and no error", len(objs), err)
	}
	if _, err := embedded("[bad"); err == nil {
		t.Error("a malformed glob gave no error")
	}
}

func TestSplitCRDs(t *testing.T) {
	obj := func(apiVersion, kind, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetName(name)
		return u
	}
	in := []*unstructured.Unstructured{
		obj("v1", "Namespace", "ns"),
		obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "stacks"),
		obj("example.com/v1", "CustomResourceDefinition", "look-alike"),
		obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "gitrepositories"),
	}
	crds, rest := splitCRDs(in)
	names := func(objs []*unstructured.Unstructured) (out []string) {
		for _, u := range objs {
			out = append(out, u.GetName())
		}
		return out
	}
	if diff := cmp.Diff([]string{"stacks", "gitrepositories"}, names(crds)); diff != "" {
		t.Errorf("CRDs, in order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ns", "look-alike"}, names(rest)); diff != "" {
		t.Errorf("the rest, in order (-want +got):\n%s", diff)
	}
}

func TestSetOwnerOnObjectsWithAndWithoutLabels(t *testing.T) {
	bare := owned("", "")
	labelled := owned("", "")
	labelled.SetLabels(map[string]string{"team": "a"})
	SetOwner([]*unstructured.Unstructured{bare, labelled}, "cluster", "ops")
	for _, u := range []*unstructured.Unstructured{bare, labelled} {
		if got := ownerOf(u); got != "ops/cluster" {
			t.Errorf("owner = %q, want ops/cluster", got)
		}
	}
	if labelled.GetLabels()["team"] != "a" {
		t.Errorf("SetOwner dropped a label: %v", labelled.GetLabels())
	}
}

func TestWithOwners(t *testing.T) {
	liveOwned := owned("cluster", "flotilla-system")
	c := fake.NewClientBuilder().WithObjects(liveOwned).Build()
	desired := owned("", "")
	got, err := withOwners(context.Background(), c, []*unstructured.Unstructured{desired})
	if err != nil {
		t.Fatal(err)
	}
	if ownerOf(got[0]) != "flotilla-system/cluster" {
		t.Errorf("the live owner was not kept: %v", got[0].GetLabels())
	}
	if ownerOf(desired) != "" {
		t.Errorf("withOwners changed its input: %v", desired.GetLabels())
	}

	_, err = withOwners(context.Background(), c, []*unstructured.Unstructured{owned("other", "team-a")})
	if !errors.Is(err, apply.ErrOwnedElsewhere) {
		t.Fatalf("err = %v, want ErrOwnedElsewhere", err)
	}
	for _, want := range []string{"ServiceAccount/flotilla-system/flotilla-agent", "flotilla-system/cluster", "team-a/other"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %q", err, want)
		}
	}
}

func TestWithOwnersAbsentObjectsAndUnknownKinds(t *testing.T) {
	c := fake.NewClientBuilder().Build()
	unknown := &unstructured.Unstructured{}
	unknown.SetAPIVersion("flotilla.io/v1alpha1")
	unknown.SetKind("Stack")
	unknown.SetName("x")
	got, err := withOwners(context.Background(), c, []*unstructured.Unstructured{owned("cluster", "ops"), unknown})
	if err != nil {
		t.Fatalf("absent objects and kinds whose CRD is in the set: %v", err)
	}
	if len(got) != 2 || ownerOf(got[0]) != "ops/cluster" {
		t.Errorf("withOwners = %v, want both objects, the first still claimed by ops/cluster", got)
	}
}

func TestWithOwnersReportsReadErrorsNamingTheObject(t *testing.T) {
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			return apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, key.Name, errors.New("no"))
		},
	}).Build()
	_, err := withOwners(context.Background(), c, []*unstructured.Unstructured{owned("", "")})
	if err == nil || !strings.Contains(err.Error(), "reading ServiceAccount/flotilla-system/flotilla-agent") || !apierrors.IsForbidden(err) {
		t.Fatalf("err = %v, want a wrapped Forbidden naming the ServiceAccount", err)
	}
}

func TestWriteEmptyAndOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("Write(nil) = %q, %v; want nothing", buf.String(), err)
	}
	a, b := owned("", ""), owned("", "")
	a.SetName("first")
	b.SetName("second")
	if err := Write(&buf, []*unstructured.Unstructured{a, b}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "---\n") || strings.Index(out, "name: first") > strings.Index(out, "name: second") {
		t.Errorf("Write did not keep the order or the separators:\n%s", out)
	}
	back, err := decode(buf.Bytes())
	if err != nil || len(back) != 2 {
		t.Fatalf("Write's output does not decode into 2 objects: %d, %v", len(back), err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReportsWriterErrors(t *testing.T) {
	if err := Write(failingWriter{}, []*unstructured.Unstructured{owned("", "")}); err == nil || err.Error() != "disk full" {
		t.Errorf("err = %v, want disk full", err)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "objects", 1: "object", 2: "objects"} {
		if got := plural(n, "object", "objects"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}
