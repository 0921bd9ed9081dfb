package bootstrap

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/install"
)

const headCommit = "0123456789abcdef0123456789abcdef01234567"

// stackWith returns the root Stack at generation 2 with the given status.
func stackWith(observed int64, revision string, conds ...metav1.Condition) *v1alpha1.Stack {
	o := validOptions()
	st := o.rootStack()
	st.Generation = 2
	st.Status.ObservedGeneration = observed
	st.Status.LastAppliedRevision = revision
	st.Status.Conditions = conds
	return st
}

// cond is a condition recorded for the root Stack's generation, 2.
func cond(typ string, status metav1.ConditionStatus, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, ObservedGeneration: 2, Reason: "Test", Message: msg}
}

// newRun returns a run against a fake client holding objs, recording its
// progress lines.
func newRun(t *testing.T, o Options, objs ...client.Object) (*run, *[]string) {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(v1alpha1.NewScheme()).WithObjects(objs...).WithStatusSubresource(&v1alpha1.Stack{}).Build()
	var lines []string
	return &run{opts: o, c: c, progress: func(s string) { lines = append(lines, s) }}, &lines
}

func TestWaitReturnsTheRevisionOnceReady(t *testing.T) {
	rev := "main@sha1:" + headCommit
	o := validOptions()
	o.Timeout = time.Minute
	r, lines := newRun(t, o, stackWith(2, rev, cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, "applied")))
	r.result.Commit = headCommit
	if err := r.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.result.Revision != rev {
		t.Errorf("Revision = %q, want %q", r.result.Revision, rev)
	}
	want := []string{"waiting for Stack flotilla-system/cluster: Ready at " + rev}
	if diff := cmp.Diff(want, *lines); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestWaitFailsAtOnceOnAStalledStack(t *testing.T) {
	o := validOptions()
	o.Timeout = time.Hour
	r, _ := newRun(t, o, stackWith(2, "", cond(v1alpha1.StalledCondition, metav1.ConditionTrue, "kustomization.yaml: unknown field")))
	err := r.wait(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Stalled: kustomization.yaml: unknown field") {
		t.Fatalf("err = %v, want the Stalled message", err)
	}
	if r.result.Revision != "" {
		t.Errorf("Revision = %q on a stalled Stack, want none", r.result.Revision)
	}
}

func TestWaitTimeoutNamesTheStackAndTheLastState(t *testing.T) {
	o := validOptions()
	o.Timeout = time.Millisecond
	r, _ := newRun(t, o, stackWith(2, "", cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, "applying 12 objects")))
	err := r.wait(context.Background())
	if err == nil {
		t.Fatal("wait on a Stack that never becomes Ready returned no error")
	}
	for _, want := range []string{"flotilla-system/cluster", "applying 12 objects", "kubectl -n flotilla-system get pods"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}

func TestWaitTimeoutWhenTheStackDoesNotExist(t *testing.T) {
	o := validOptions()
	o.Timeout = time.Millisecond
	r, _ := newRun(t, o)
	err := r.wait(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v, want the last Get error (not found) in it", err)
	}
}

// configMap returns a ConfigMap in flotilla-system, owned by the Stack
// ns/name when name is not empty.
func configMap(name, data, ownerName, ownerNS string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": install.DefaultNamespace},
		"data":     map[string]any{"k": data},
	}}
	if ownerName != "" {
		install.SetOwner([]*unstructured.Unstructured{u}, ownerName, ownerNS)
	}
	return u
}

func TestAdoptLabelsWhatGitHoldsAndWarnsOnDifferences(t *testing.T) {
	r, lines := newRun(t, validOptions())
	inGitSame := configMap("same", "1", "", "")
	inGitChanged := configMap("changed", "from-git", "", "")
	rendered := []*unstructured.Unstructured{inGitSame, inGitChanged}

	same, changed, notInGit := configMap("same", "1", "", ""), configMap("changed", "from-bootstrap", "", ""), configMap("absent", "1", "", "")
	r.adopt(rendered, []*unstructured.Unstructured{same, changed}, []*unstructured.Unstructured{notInGit})

	for _, u := range []*unstructured.Unstructured{same, changed} {
		l := u.GetLabels()
		if l[apply.OwnerNameLabel] != "cluster" || l[apply.OwnerNamespaceLabel] != install.DefaultNamespace {
			t.Errorf("%s labels = %v, want it owned by the root Stack", u.GetName(), l)
		}
	}
	if l := notInGit.GetLabels(); l[apply.OwnerNameLabel] != "" {
		t.Errorf("an object not in Git was labelled as the root Stack's: %v", l)
	}
	want := []string{"warning: ConfigMap/flotilla-system/changed in clusters/prod differs from what this bootstrap installs; the root Stack will apply the version in Git"}
	if diff := cmp.Diff(want, *lines); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestCheckRefusesObjectsAnotherStackOwns(t *testing.T) {
	ours := configMap("ours", "1", "cluster", install.DefaultNamespace)
	unowned := configMap("unowned", "1", "", "")
	theirs := configMap("theirs", "1", "apps", "team-a")
	sameNameOtherNS := configMap("same-name", "1", "cluster", "team-b")
	r, _ := newRun(t, validOptions(), ours, unowned, theirs, sameNameOtherNS)

	rendered := []*unstructured.Unstructured{
		configMap("ours", "2", "", ""), configMap("unowned", "2", "", ""),
		configMap("theirs", "2", "", ""), configMap("same-name", "2", "", ""),
		configMap("absent", "2", "", ""),
	}
	err := r.check(context.Background(), rendered)
	if err == nil {
		t.Fatal("check accepted objects owned by other Stacks")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		"ConfigMap/flotilla-system/theirs in clusters/prod is already managed by the Stack team-a/apps; remove it from one of the two",
		"ConfigMap/flotilla-system/same-name in clusters/prod is already managed by the Stack team-b/cluster; remove it from one of the two",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("check errors (-want +got):\n%s", diff)
	}
}

func TestCheckAcceptsAFreshCluster(t *testing.T) {
	r, _ := newRun(t, validOptions())
	if err := r.check(context.Background(), []*unstructured.Unstructured{configMap("a", "1", "", "")}); err != nil {
		t.Fatalf("check on an empty cluster: %v", err)
	}
}

func TestApplySecretWithoutCredentialsAppliesNothing(t *testing.T) {
	r, lines := newRun(t, validOptions())
	if err := r.applySecret(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(*lines) != 0 || len(r.result.Changes.Changes) != 0 {
		t.Errorf("a run without credentials applied something: progress %q, changes %+v", *lines, r.result.Changes)
	}
}
