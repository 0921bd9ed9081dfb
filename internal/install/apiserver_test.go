package install

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// TestApplyAgainstTheAPIServer applies owner-labelled objects to a real
// kube-apiserver: what it takes, what it keeps, and what it refuses.
func TestApplyAgainstTheAPIServer(t *testing.T) {
	c := controlplane.StartBare(t).Client
	ctx := context.Background()
	for _, ns := range []string{"apps", "web"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("claimed-objects-are-created-with-the-claim", func(t *testing.T) {
		cs, err := Apply(ctx, c, []*unstructured.Unstructured{configMap("apps", "claimed", "cluster", "flotilla-system")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cs.Count(apply.Created) != 1 {
			t.Errorf("changes %+v, want one created", cs.Changes)
		}
		if got := ownerOfLive(t, c, "apps", "claimed"); got != "flotilla-system/cluster" {
			t.Errorf("live owner = %q, want flotilla-system/cluster", got)
		}
	})

	t.Run("a-plain-install-keeps-the-owner-that-adopted-the-object", func(t *testing.T) {
		var lines []string
		cs, err := Apply(ctx, c, []*unstructured.Unstructured{configMap("apps", "claimed", "", "")}, func(s string) { lines = append(lines, s) })
		if err != nil {
			t.Fatal(err)
		}
		if cs.Count(apply.Unchanged) != 1 {
			t.Errorf("changes %+v, want the object unchanged", cs.Changes)
		}
		if got := ownerOfLive(t, c, "apps", "claimed"); got != "flotilla-system/cluster" {
			t.Errorf("live owner = %q, want the adopting Stack's claim kept", got)
		}
		if len(lines) != 1 || lines[0] != "applying 1 object" {
			t.Errorf("progress %q, want one line counting the object", lines)
		}
	})

	t.Run("every-object-of-another-stack-is-refused-and-nothing-is-applied", func(t *testing.T) {
		for _, u := range []*unstructured.Unstructured{
			configMap("apps", "team-a-config", "other", "team-a"),
			configMap("web", "team-b-config", "web", "team-b"),
		} {
			if err := c.Create(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		objs := []*unstructured.Unstructured{
			configMap("apps", "fresh", "cluster", "flotilla-system"),
			configMap("apps", "team-a-config", "cluster", "flotilla-system"),
			configMap("web", "team-b-config", "cluster", "flotilla-system"),
		}
		cs, err := Apply(ctx, c, objs, nil)
		if !errors.Is(err, apply.ErrOwnedElsewhere) {
			t.Fatalf("Apply = %v, want ErrOwnedElsewhere", err)
		}
		for _, want := range []string{
			"2 objects are managed by another Stack",
			"ConfigMap/apps/team-a-config is managed by the Stack team-a/other",
			"ConfigMap/web/team-b-config is managed by the Stack team-b/web",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if len(cs.Changes) != 0 {
			t.Errorf("changes %+v, want none after a refusal", cs.Changes)
		}
		err = c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "fresh"}, &corev1.ConfigMap{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("reading the unclaimed ConfigMap after the refusal: %v, want NotFound", err)
		}
		if got := ownerOfLive(t, c, "web", "team-b-config"); got != "team-b/web" {
			t.Errorf("live owner = %q, want team-b/web untouched", got)
		}
	})

	t.Run("the-whole-install-applies-and-a-second-run-changes-nothing", func(t *testing.T) {
		o := DefaultOptions()
		o.Namespace = "flotilla-test"
		objs, err := Objects(o)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		cs, err := Apply(ctx, c, objs, func(s string) { lines = append(lines, s) })
		if err != nil {
			t.Fatalf("Apply: %v\nprogress: %q", err, lines)
		}
		if cs.Count(apply.Created) != len(objs) {
			t.Errorf("created %d of %d objects: %+v", cs.Count(apply.Created), len(objs), cs.Changes)
		}
		if len(lines) != 2 || !strings.Contains(lines[0], "CustomResourceDefinitions, waiting until they are Established") {
			t.Errorf("progress %q, want the CRDs first, then the rest", lines)
		}
		var sa corev1.ServiceAccount
		if err := c.Get(ctx, client.ObjectKey{Namespace: "flotilla-test", Name: AgentName}, &sa); err != nil {
			t.Fatalf("the agent's ServiceAccount: %v", err)
		}
		again, err := Apply(ctx, c, objs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Count(apply.Unchanged) != len(objs) {
			t.Errorf("second run: %d of %d unchanged: %+v", again.Count(apply.Unchanged), len(objs), again.Changes)
		}
	})

	t.Run("an-object-the-server-refuses-stops-the-set-before-anything-is-written", func(t *testing.T) {
		bad := configMap("apps", "Not_A_Valid_Name", "", "")
		good := configMap("apps", "written-only-with-its-set", "", "")
		_, err := Apply(ctx, c, []*unstructured.Unstructured{good, bad}, nil)
		if err == nil || !strings.Contains(err.Error(), "Not_A_Valid_Name") {
			t.Fatalf("Apply = %v, want the invalid object named", err)
		}
		err = c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "written-only-with-its-set"}, &corev1.ConfigMap{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("the valid object of a refused set: %v, want NotFound (the dry-run refuses the whole set)", err)
		}
	})

	t.Run("waiting-for-an-agent-that-never-becomes-available-names-the-deployment", func(t *testing.T) {
		err := WaitAgent(ctx, c, "flotilla-test", 2*time.Second)
		if err == nil {
			t.Fatal("WaitAgent succeeded without a Deployment controller")
		}
		if want := "kubectl -n flotilla-test describe deployment " + AgentName; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to say %q", err, want)
		}
	})
}

// ownerOfLive reads the ConfigMap ns/name and returns its owner.
func ownerOfLive(t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	u := configMap(ns, name, "", "")
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(u), u); err != nil {
		t.Fatal(err)
	}
	return ownerOf(u)
}
