package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// A bare API server runs no namespace controller, so a deleted Namespace
// stays Terminating; the CRD's finalizer is handled inside the API server.
func TestPruneDeletesNamespacedObjectsBeforeTheNamespaceAndTheCRD(t *testing.T) {
	f := newFixture(t)
	ns := f.load("namespace.yaml")
	cm := f.load("configmap.yaml", "NAME", "stale-settings", "VALUE", "1")
	crd := f.load("widget-crd.yaml")
	mustApply(t, f.manager("app"), concat(ns, cm, crd))
	stale := metadataOf(concat(crd, ns, cm)) // the inventory's order is no guide
	m, log := f.recordingManager("app")

	cs, err := m.Prune(context.Background(), stale)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}

	want := map[string]apply.Action{
		"Namespace/" + f.Namespace:                     apply.Deleted,
		"ConfigMap/" + f.Namespace + "/stale-settings": apply.Deleted,
		"CustomResourceDefinition/widgets." + f.Group:  apply.Deleted,
	}
	if diff := cmp.Diff(want, actions(cs)); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	wantWrites := []string{
		"delete ConfigMap/" + f.Namespace + "/stale-settings",
		"delete Namespace/" + f.Namespace,
		"delete CustomResourceDefinition/widgets." + f.Group,
	}
	if diff := cmp.Diff(wantWrites, log.Writes()); diff != "" {
		t.Errorf("deletions in order (-want +got):\n%s", diff)
	}
	if ok, _ := f.exists(apply.MetadataOf(cm[0])); ok {
		t.Error("the ConfigMap still exists")
	}
	if ok, terminating := f.exists(apply.MetadataOf(ns[0])); ok && !terminating {
		t.Error("the Namespace is neither gone nor terminating")
	}
	eventually(t, 30*time.Second, "the CRD is still there", func() bool {
		ok, _ := f.exists(apply.MetadataOf(crd[0]))
		return !ok
	})
}

func TestPruneLeavesAlone(t *testing.T) {
	tests := []struct {
		name string
		// setup creates the stale object and returns its identity.
		setup      func(t *testing.T, f *fixture) apply.ObjMetadata
		wantReason string
		// wantWrites is how many writes the prune may make (releasing a kept object).
		wantWrites int
	}{
		{
			name: "an object with pruning disabled",
			setup: func(t *testing.T, f *fixture) apply.ObjMetadata {
				objs := f.load("configmap-prune-disabled.yaml", "NAME", "keep-me")
				mustApply(t, f.manager("app"), objs)
				return apply.MetadataOf(objs[0])
			},
			wantReason: "flotilla.io/prune: disabled",
			wantWrites: 1, // the owner labels come off, nothing else
		},
		{
			name: "an object another Stack applied",
			setup: func(t *testing.T, f *fixture) apply.ObjMetadata {
				objs := f.load("configmap.yaml", "NAME", "not-mine", "VALUE", "1")
				mustApply(t, f.manager("other"), objs)
				return apply.MetadataOf(objs[0])
			},
			wantReason: "not labelled as applied by Stack " + stackNamespace + "/app",
		},
		{
			name: "an object a Stack of the same name in another namespace applied",
			setup: func(t *testing.T, f *fixture) apply.ObjMetadata {
				objs := f.load("configmap.yaml", "NAME", "namesake", "VALUE", "1")
				mustApply(t, f.manager("app", func(o *apply.Options) { o.OwnerNamespace = "team-b" }), objs)
				return apply.MetadataOf(objs[0])
			},
			wantReason: "not labelled as applied by Stack " + stackNamespace + "/app",
		},
		{
			name: "an object without owner labels",
			setup: func(t *testing.T, f *fixture) apply.ObjMetadata {
				objs := f.load("configmap.yaml", "NAME", "hand-made", "VALUE", "1")
				if err := f.live.Create(context.Background(), objs[0]); err != nil {
					t.Fatal(err)
				}
				return apply.MetadataOf(objs[0])
			},
			wantReason: "not labelled as applied by Stack " + stackNamespace + "/app",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createNamespace()
			obj := tt.setup(t, f)
			m, log := f.recordingManager("app")

			cs, err := m.Prune(context.Background(), []apply.ObjMetadata{obj})
			if err != nil {
				t.Fatalf("Prune: %v", err)
			}

			want := []apply.Change{{Object: obj, Action: apply.Skipped, Reason: tt.wantReason}}
			if diff := cmp.Diff(want, cs.Changes); diff != "" {
				t.Errorf("change set (-want +got):\n%s", diff)
			}
			if writes := log.Writes(); len(writes) != tt.wantWrites {
				t.Errorf("wrote %v, want %d write(s)", writes, tt.wantWrites)
			}
			if live := f.get(obj); tt.wantWrites > 0 && live.GetLabels()[apply.OwnerNameLabel] != "" {
				t.Errorf("a kept object must lose the owner labels: %v", live.GetLabels())
			}
			if ok, terminating := f.exists(obj); !ok || terminating {
				t.Errorf("%s: exists %t, terminating %t; want it left alone", obj, ok, terminating)
			}
		})
	}
}

func TestPruneReportsObjectsAlreadyGoneAsDeleted(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	gone := []apply.ObjMetadata{
		{Version: "v1", Kind: "ConfigMap", Namespace: f.Namespace, Name: "deleted-by-hand"},
		{Version: "v1", Kind: "ConfigMap", Namespace: f.Namespace + "-never-created", Name: "in-a-missing-namespace"},
		{Group: f.Group, Version: "v1", Kind: "Widget", Namespace: f.Namespace, Name: "of-a-kind-no-longer-served"},
	}

	cs, err := f.manager("app").Prune(context.Background(), gone)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}

	if got := cs.Count(apply.Deleted); got != len(gone) {
		t.Errorf("%d deleted, want %d: %v", got, len(gone), cs.Changes)
	}
	if diff := cmp.Diff(gone, cs.Objects(apply.Deleted), sortByKey); diff != "" {
		t.Errorf("deleted objects (-want +got):\n%s", diff)
	}
}

func TestPruneOfNothingDoesNothing(t *testing.T) {
	f := newFixture(t)
	m, log := f.recordingManager("app")

	cs, err := m.Prune(context.Background(), nil)

	if err != nil || len(cs.Changes) != 0 || len(log.Writes()) != 0 {
		t.Errorf("Prune(nil) = %v, %v and wrote %v; want nothing", cs.Changes, err, log.Writes())
	}
}

// An object whose delete the API server refuses stays out of the change
// set, so the caller keeps it in the inventory; the others are still pruned.
func TestPruneReportsARefusedDeleteAndGoesOn(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	deletable := f.load("configmap.yaml", "NAME", "deletable", "VALUE", "1")
	protected := f.load("configmap.yaml", "NAME", "protected", "VALUE", "1")
	mustApply(t, f.manager("app"), concat(deletable, protected))
	const user = "prune-may-delete-one-configmap"
	f.grant(user, f.load("role-delete-one-configmap.yaml", "USER", user))
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	c, err := client.New(cfg, client.Options{Scheme: f.live.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	m := apply.NewManager(c, f.options("app"))

	cs, err := m.Prune(context.Background(), metadataOf(concat(protected, deletable)))

	refused := apply.MetadataOf(protected[0])
	var oe *apply.ObjectError
	if !errors.As(err, &oe) || oe.Object != refused || oe.Op != "delete" {
		t.Fatalf("want an *ObjectError for deleting %s, got %v", refused, err)
	}
	if !apierrors.IsForbidden(err) {
		t.Errorf("the cause is not the server's Forbidden: %v", err)
	}
	if !strings.Contains(err.Error(), refused.String()) {
		t.Errorf("message %q does not name %s", err, refused)
	}
	want := []apply.Change{{Object: apply.MetadataOf(deletable[0]), Action: apply.Deleted}}
	if diff := cmp.Diff(want, cs.Changes); diff != "" {
		t.Errorf("change set (-want +got):\n%s", diff)
	}
	if ok, _ := f.exists(refused); !ok {
		t.Errorf("%s was deleted", refused)
	}
	if ok, _ := f.exists(apply.MetadataOf(deletable[0])); ok {
		t.Error("the deletable ConfigMap still exists")
	}
}

// TestPruneDeletesOnlyTheObjectItJudged: an object deleted and created
// again by someone else between prune's read and its delete (another
// object under the same name) is not deleted.
func TestPruneDeletesOnlyTheObjectItJudged(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	stale := f.load("configmap.yaml", "NAME", "replaced", "VALUE", "1")
	mustApply(t, f.manager("app"), stale)
	obj := apply.MetadataOf(stale[0])
	var replacement *unstructured.Unstructured
	c := interceptor.NewClient(f.live, interceptor.Funcs{
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			if replacement == nil {
				// Someone replaces the object right after prune read it.
				if err := c.Delete(ctx, obj.Unstructured()); err != nil {
					return err
				}
				replacement = f.load("configmap.yaml", "NAME", "replaced", "VALUE", "someone else's")[0]
				if err := c.Create(ctx, replacement); err != nil {
					return err
				}
			}
			return c.Delete(ctx, o, opts...)
		},
	})
	m := apply.NewManager(c, f.options("app"))

	cs, err := m.Prune(context.Background(), []apply.ObjMetadata{obj})
	var oe *apply.ObjectError
	if !errors.As(err, &oe) || oe.Object != obj || !apierrors.IsConflict(err) {
		t.Fatalf("want a Conflict *ObjectError for %s, got %v", obj, err)
	}
	if len(cs.Changes) != 0 {
		t.Errorf("change set %v, want nothing deleted", cs.Changes)
	}
	live := f.get(obj)
	if live.GetUID() != replacement.GetUID() {
		t.Errorf("the replacement (UID %s) is gone; the live object has UID %s", replacement.GetUID(), live.GetUID())
	}
}

// gappedMapper answers for one kind as discovery does during a gap: the
// inventory's version has no match, and asking for any version fails.
type gappedMapper struct {
	meta.RESTMapper
	gk schema.GroupKind
}

func (g gappedMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if gk != g.gk {
		return g.RESTMapper.RESTMapping(gk, versions...)
	}
	if len(versions) > 0 {
		return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
	}
	return nil, &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{{Group: gk.Group, Version: "v1"}: errors.New("the server is currently unable to handle the request")}}
}

// TestPruneKeepsObjectsThroughADiscoveryGap: an object whose kind
// discovery cannot map right now is kept in the inventory (an error), not
// reported deleted while it still exists.
func TestPruneKeepsObjectsThroughADiscoveryGap(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	mustApply(t, f.manager("app"), f.load("widget-crd.yaml"))
	widget := f.load("widget-small.yaml")
	mustApply(t, f.manager("app"), widget)
	obj := apply.MetadataOf(widget[0])
	c, err := client.New(env.Config, client.Options{Scheme: f.live.Scheme(), Mapper: gappedMapper{RESTMapper: f.live.RESTMapper(), gk: obj.GroupKind()}})
	if err != nil {
		t.Fatal(err)
	}

	cs, err := apply.NewManager(c, f.options("app")).Prune(context.Background(), []apply.ObjMetadata{obj})
	var oe *apply.ObjectError
	if !errors.As(err, &oe) || oe.Object != obj || !strings.Contains(err.Error(), "cannot say whether kind") {
		t.Fatalf("want an *ObjectError keeping %s through the gap, got %v", obj, err)
	}
	if len(cs.Changes) != 0 {
		t.Errorf("change set %v, want nothing deleted", cs.Changes)
	}
	if ok, _ := f.exists(obj); !ok {
		t.Errorf("%s is gone", obj)
	}
}
