package install

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// configMap is a ConfigMap in namespace ns, claimed by the Stack
// ownerNS/owner when owner is set.
func configMap(ns, name, owner, ownerNS string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	if owner != "" {
		SetOwner([]*unstructured.Unstructured{u}, owner, ownerNS)
	}
	return u
}

func TestWithOwnersReportsEveryObjectAnotherStackOwns(t *testing.T) {
	live := []client.Object{
		configMap("apps", "first", "other", "team-a"),
		configMap("apps", "free", "", ""),
		configMap("web", "second", "web", "team-b"),
		configMap("web", "third", "other", "team-a"),
	}
	c := fake.NewClientBuilder().WithObjects(live...).Build()
	desired := []*unstructured.Unstructured{
		configMap("apps", "first", "cluster", "flotilla-system"),
		configMap("apps", "free", "cluster", "flotilla-system"),
		configMap("web", "second", "cluster", "flotilla-system"),
		configMap("web", "third", "cluster", "flotilla-system"),
	}
	got, err := withOwners(context.Background(), c, desired)
	if got != nil {
		t.Errorf("withOwners returned objects to apply despite the refusal: %d", len(got))
	}
	if !errors.Is(err, apply.ErrOwnedElsewhere) {
		t.Fatalf("err = %v, want ErrOwnedElsewhere", err)
	}
	var owned *OwnedElsewhereError
	if !errors.As(err, &owned) || len(owned.Objects) != 3 {
		t.Fatalf("err = %#v, want an *OwnedElsewhereError with the three refused objects", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"3 objects are managed by another Stack",
		"ConfigMap/apps/first is managed by the Stack team-a/other",
		"ConfigMap/web/second is managed by the Stack team-b/web",
		"ConfigMap/web/third is managed by the Stack team-a/other",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "ConfigMap/apps/free") {
		t.Errorf("error %q names the object nobody owns", msg)
	}
}

func TestOwnedElsewhereErrorListsTheFirstAndCountsTheRest(t *testing.T) {
	var objs []error
	for i := range maxListed + 3 {
		objs = append(objs, fmt.Errorf("ConfigMap/apps/cm-%02d is managed by the Stack team-a/other: %w", i, apply.ErrOwnedElsewhere))
	}
	msg := (&OwnedElsewhereError{Objects: objs}).Error()
	if !strings.HasPrefix(msg, fmt.Sprintf("%d objects are managed by another Stack:", maxListed+3)) {
		t.Errorf("message %q does not start with the count", msg)
	}
	for i := range maxListed {
		if want := fmt.Sprintf("ConfigMap/apps/cm-%02d", i); !strings.Contains(msg, want) {
			t.Errorf("message does not list %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, fmt.Sprintf("cm-%02d", maxListed)) {
		t.Errorf("message lists more than %d objects:\n%s", maxListed, msg)
	}
	if !strings.HasSuffix(msg, "- and 3 more") {
		t.Errorf("message %q does not count the objects it leaves out", msg)
	}
}

func TestOwnedElsewhereErrorOfOneObject(t *testing.T) {
	one := fmt.Errorf("ServiceAccount/flotilla-system/flotilla-agent is managed by the Stack team-a/other: %w", apply.ErrOwnedElsewhere)
	want := "1 object is managed by another Stack:\n- " + one.Error()
	if got := (&OwnedElsewhereError{Objects: []error{one}}).Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
