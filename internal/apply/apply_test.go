package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/internal/apply"
)

func TestApplyCreatesEveryObjectOfANewSet(t *testing.T) {
	f := newFixture(t)
	objs := f.load("web-stack.yaml", "GREETING", "hello")

	cs := mustApply(t, f.manager("web"), objs)

	ns := f.Namespace
	want := []apply.Change{
		{Object: apply.ObjMetadata{Version: "v1", Kind: "Namespace", Name: ns}, Action: apply.Created},
		{Object: apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "web-settings"}, Action: apply.Created},
		{Object: apply.ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}, Action: apply.Created},
		{Object: apply.ObjMetadata{Version: "v1", Kind: "Service", Namespace: ns, Name: "web"}, Action: apply.Created},
	}
	if diff := cmp.Diff(want, cs.Changes, cmpopts.IgnoreFields(apply.Change{}, "Result")); diff != "" {
		t.Errorf("change set (-want +got), the Namespace stage first:\n%s", diff)
	}
	for _, c := range cs.Changes {
		if c.Result == nil || c.Result.GetUID() == "" || len(c.Result.GetManagedFields()) == 0 {
			t.Errorf("%s: the change must carry the server's copy with managedFields, got %v", c.Object, c.Result)
		}
	}
	for _, m := range metadataOf(objs) {
		live := f.get(m)
		if got := live.GetLabels()[apply.OwnerNameLabel]; got != "web" {
			t.Errorf("%s: label %s = %q, want web", m, apply.OwnerNameLabel, got)
		}
		if got := live.GetLabels()[apply.OwnerNamespaceLabel]; got != stackNamespace {
			t.Errorf("%s: label %s = %q, want %s", m, apply.OwnerNamespaceLabel, got, stackNamespace)
		}
		if !managedBy(live, "flotilla", metav1.ManagedFieldsOperationApply) {
			t.Errorf("%s: no server-side apply entry for field manager flotilla in %v", m, live.GetManagedFields())
		}
	}
}

func TestApplyWithoutOwnerAddsNoOwnerLabels(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := f.load("configmap.yaml", "NAME", "unowned", "VALUE", "1")

	mustApply(t, f.manager(""), objs)

	if labels := f.get(apply.MetadataOf(objs[0])).GetLabels(); len(labels) != 0 {
		t.Errorf("labels = %v, want none when Options.OwnerName is empty", labels)
	}
}

func TestApplyAgainWritesNothing(t *testing.T) {
	f := newFixture(t)
	objs := f.load("web-stack.yaml", "GREETING", "hello")
	mustApply(t, f.manager("web"), objs)
	before := resourceVersions(f, objs)

	m, log := f.recordingManager("web")
	cs := mustApply(t, m, objs)

	if got := cs.Count(apply.Unchanged); got != len(objs) {
		t.Errorf("%d unchanged, want all %d: %v", got, len(objs), cs.Changes)
	}
	if writes := log.Writes(); len(writes) != 0 {
		t.Errorf("the second apply wrote %v, want only dry-runs", writes)
	}
	if diff := cmp.Diff(before, resourceVersions(f, objs)); diff != "" {
		t.Errorf("resourceVersions changed (-before +after):\n%s", diff)
	}
}

// TestApplyAgainLeavesMultiPortObjectsUnchanged: objects with several
// ports are unchanged on a second apply, not "configured" by a managed
// fields takeover that has no client-side manager to take over from.
func TestApplyAgainLeavesMultiPortObjectsUnchanged(t *testing.T) {
	f := newFixture(t)
	objs := f.load("ingress-multi-port.yaml")
	mustApply(t, f.manager("ingress"), objs)

	m, log := f.recordingManager("ingress")
	cs := mustApply(t, m, objs)

	if got := cs.Count(apply.Unchanged); got != len(objs) {
		t.Errorf("%d unchanged, want all %d: %v", got, len(objs), cs.Changes)
	}
	if writes := log.Writes(); len(writes) != 0 {
		t.Errorf("the second apply wrote %v, want only dry-runs", writes)
	}
}

func TestApplyConfiguresOnlyTheChangedObject(t *testing.T) {
	f := newFixture(t)
	mustApply(t, f.manager("web"), f.load("web-stack.yaml", "GREETING", "hello"))
	objs := f.load("web-stack.yaml", "GREETING", "bonjour")
	before := resourceVersions(f, objs)

	m, log := f.recordingManager("web")
	cs := mustApply(t, m, objs)

	settings := "ConfigMap/" + f.Namespace + "/web-settings"
	want := map[string]apply.Action{
		"Namespace/" + f.Namespace:           apply.Unchanged,
		settings:                             apply.Configured,
		"Service/" + f.Namespace + "/web":    apply.Unchanged,
		"Deployment/" + f.Namespace + "/web": apply.Unchanged,
	}
	if diff := cmp.Diff(want, actions(cs)); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"apply " + settings}, log.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	after := resourceVersions(f, objs)
	for key, rv := range before {
		if changed := after[key] != rv; changed != (key == settings) {
			t.Errorf("%s: resourceVersion %s -> %s", key, rv, after[key])
		}
	}
	if got, _, _ := unstructured.NestedString(f.get(apply.MetadataOf(objs[1])).Object, "data", "greeting"); got != "bonjour" {
		t.Errorf("greeting = %q, want bonjour", got)
	}
}

func TestApplyRefusesTheWholeSetWhenAnObjectIsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		invalid []string // fixtures
		refused []string // objects named in the error, by Kind/name
	}{
		{
			name:    "service with a port out of range",
			invalid: []string{"service-invalid-port.yaml"},
			refused: []string{"Service/port-out-of-range"},
		},
		{
			name:    "deployment without a selector",
			invalid: []string{"deployment-missing-selector.yaml"},
			refused: []string{"Deployment/no-selector"},
		},
		{
			name:    "two invalid objects",
			invalid: []string{"service-invalid-port.yaml", "deployment-missing-selector.yaml"},
			refused: []string{"Service/port-out-of-range", "Deployment/no-selector"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createNamespace()
			valid := concat(
				f.load("configmap.yaml", "NAME", "valid-settings", "VALUE", "1"),
				f.load("deployment-selector.yaml", "APP", "api"),
			)
			var invalid []*unstructured.Unstructured
			for _, name := range tt.invalid {
				invalid = append(invalid, f.load(name)...)
			}
			m, log := f.recordingManager("web")

			cs, err := m.Apply(context.Background(), concat(valid, invalid))

			failures := validationFailures(t, err)
			var want []string
			for _, r := range tt.refused {
				kind, name, _ := strings.Cut(r, "/")
				key := kind + "/" + f.Namespace + "/" + name
				want = append(want, key)
				if failures[key] == nil {
					t.Errorf("the error does not name %s: %v", key, err)
				} else if failures[key].Op != "dry-run" {
					t.Errorf("%s: Op = %q, want dry-run", key, failures[key].Op)
				}
				if !strings.Contains(err.Error(), key) {
					t.Errorf("message %q does not name %s", err, key)
				}
			}
			if len(failures) != len(want) {
				t.Errorf("the error names %d objects, want %v: %v", len(failures), want, err)
			}
			if len(cs.Changes) != 0 {
				t.Errorf("change set = %v, want empty", cs.Changes)
			}
			if writes := log.Writes(); len(writes) != 0 {
				t.Errorf("wrote %v, want nothing", writes)
			}
			for _, m := range metadataOf(concat(valid, invalid)) {
				if ok, _ := f.exists(m); ok {
					t.Errorf("%s exists after a refused apply", m)
				}
			}
		})
	}
}

// Objects in a Namespace of the same set can only be dry-run once the
// Namespace exists, so the Namespace is written first. When its contents are
// then refused, the Namespace is the only write, and the ChangeSet reports it
// for the inventory.
// A new Namespace is written so that its contents can be dry-run; when they
// are refused, the Namespace is deleted again: a refused revision leaves
// nothing behind (#16, item 13).
func TestApplyRollsBackTheNewNamespaceWhenItsContentsAreInvalid(t *testing.T) {
	f := newFixture(t)
	valid := f.load("web-stack.yaml", "GREETING", "hello")
	invalid := f.load("service-invalid-port.yaml")
	m, log := f.recordingManager("web")

	cs, err := m.Apply(context.Background(), concat(valid, invalid))

	failures := validationFailures(t, err)
	bad := apply.MetadataOf(invalid[0]).String()
	if failures[bad] == nil || len(failures) != 1 {
		t.Fatalf("want a failure for %s alone, got %v", bad, err)
	}
	if len(cs.Changes) != 0 {
		t.Errorf("a refused set reports changes: %v", actions(cs))
	}
	if !strings.Contains(err.Error(), "nothing was applied (the 1 CRDs and Namespaces the dry-run needed were rolled back)") {
		t.Errorf("the message must say the Namespace was rolled back: %v", err)
	}
	ns := "Namespace/" + f.Namespace
	if diff := cmp.Diff([]string{"apply " + ns, "delete " + ns}, log.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if ok, terminating := f.exists(apply.MetadataOf(valid[0])); ok && !terminating {
		t.Errorf("%s is still there after a refused apply", ns)
	}
	for _, m := range metadataOf(concat(valid[1:], invalid)) {
		if ok, _ := f.exists(m); ok {
			t.Errorf("%s exists after a refused apply", m)
		}
	}
}

func TestApplyCreatesACRDBeforeItsCustomResource(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	cr := f.load("widget-small.yaml")
	crd := f.load("widget-crd.yaml")
	m, log := f.recordingManager("widgets")

	cs := mustApply(t, m, concat(cr, crd)) // the resource is listed first

	want := map[string]apply.Action{
		"CustomResourceDefinition/widgets." + f.Group: apply.Created,
		"Widget/" + f.Namespace + "/small":            apply.Created,
	}
	if diff := cmp.Diff(want, actions(cs)); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	wantWrites := []string{
		"apply CustomResourceDefinition/widgets." + f.Group,
		"apply Widget/" + f.Namespace + "/small",
	}
	if diff := cmp.Diff(wantWrites, log.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	live := f.get(apply.MetadataOf(crd[0]))
	if !hasCondition(live, "Established", "True") {
		t.Errorf("the CRD is not Established: %v", live.Object["status"])
	}
	if size, _, _ := unstructured.NestedInt64(f.get(apply.MetadataOf(cr[0])).Object, "spec", "size"); size != 3 {
		t.Errorf("widget size = %d, want 3", size)
	}

	again := mustApply(t, f.manager("widgets"), concat(cr, crd))
	if got := again.Count(apply.Unchanged); got != 2 {
		t.Errorf("applying again: %d unchanged, want 2: %v", got, again.Changes)
	}
}

// The CRD has to be written before its resources can be dry-run, so a
// resource that its schema refuses is found after the CRD is applied; the
// CRD is then deleted again (#16, item 13).
func TestApplyRefusesACustomResourceInvalidAgainstItsNewCRD(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	cr := f.load("widget-size-not-a-number.yaml")
	crd := f.load("widget-crd.yaml")

	cs, err := f.manager("widgets").Apply(context.Background(), concat(cr, crd))

	failures := validationFailures(t, err)
	key := "Widget/" + f.Namespace + "/not-a-number"
	if failures[key] == nil || len(failures) != 1 {
		t.Fatalf("want a failure for %s alone, got %v", key, err)
	}
	if !strings.Contains(err.Error(), "spec.size") {
		t.Errorf("message %q does not name spec.size", err)
	}
	if len(cs.Changes) != 0 {
		t.Errorf("a refused set reports changes: %v", actions(cs))
	}
	crdKey := "CustomResourceDefinition/widgets." + f.Group
	if ok, terminating := f.exists(apply.MetadataOf(crd[0])); ok && !terminating {
		t.Errorf("%s is still there after a refused apply", crdKey)
	}
	if ok, _ := f.exists(apply.MetadataOf(cr[0])); ok {
		t.Errorf("%s exists", key)
	}
}

// A CRD that the refused revision changed gets its previous spec back.
func TestApplyRestoresAChangedCRDWhenTheSetIsRefused(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	crd := f.load("widget-crd.yaml")
	mustApply(t, f.manager("widgets"), crd)
	before := f.get(apply.MetadataOf(crd[0]))

	changed := crd[0].DeepCopy()
	labels := changed.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["revision"] = "two"
	changed.SetLabels(labels)
	versions, _, _ := unstructured.NestedSlice(changed.Object, "spec", "versions")
	v0 := versions[0].(map[string]any)
	v0["additionalPrinterColumns"] = []any{map[string]any{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}}
	_ = unstructured.SetNestedSlice(changed.Object, versions, "spec", "versions")
	// A namespace of the set that does not exist yet makes the resources
	// wait for the prerequisites, the CRD among them.
	ns := f.Namespace + "-new"
	newNS := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	cr := f.load("widget-size-not-a-number.yaml")
	cr[0].SetNamespace(ns)

	_, err := f.manager("widgets").Apply(context.Background(), concat([]*unstructured.Unstructured{changed, newNS}, cr))
	validationFailures(t, err)

	after := f.get(apply.MetadataOf(crd[0]))
	if after.GetLabels()["revision"] != "" {
		t.Errorf("the CRD keeps the refused revision's label: %v", after.GetLabels())
	}
	wantVersions, _, _ := unstructured.NestedSlice(before.Object, "spec", "versions")
	gotVersions, _, _ := unstructured.NestedSlice(after.Object, "spec", "versions")
	if diff := cmp.Diff(wantVersions, gotVersions); diff != "" {
		t.Errorf("the CRD's versions are not restored (-before +after):\n%s", diff)
	}
}

func TestApplyRefusesAResourceOfAnUnknownKind(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := concat(f.load("widget-small.yaml"), f.load("configmap.yaml", "NAME", "settings", "VALUE", "1"))

	cs, err := f.manager("widgets").Apply(context.Background(), objs)

	failures := validationFailures(t, err)
	f1 := failures["Widget/"+f.Namespace+"/small"]
	if f1 == nil || len(failures) != 1 {
		t.Fatalf("want a failure for the Widget alone, got %v", err)
	}
	if !meta.IsNoMatchError(f1.Err) {
		t.Errorf("cause = %v, want a no-match error", f1.Err)
	}
	if len(cs.Changes) != 0 {
		t.Errorf("change set = %v, want empty", cs.Changes)
	}
	if ok, _ := f.exists(apply.MetadataOf(objs[1])); ok {
		t.Error("the ConfigMap was created")
	}
}

func TestApplyImmutableFieldChange(t *testing.T) {
	tests := []struct {
		name          string
		fixture       string
		before, after []string // fixture variables
		field         string   // the field the error names
		// changed reads the value the change sets.
		changed func(*unstructured.Unstructured) string
		want    string
	}{
		{
			name:    "deployment selector",
			fixture: "deployment-selector.yaml",
			before:  []string{"APP", "api"},
			after:   []string{"APP", "api-v2"},
			field:   "spec.selector",
			changed: func(u *unstructured.Unstructured) string {
				app, _, _ := unstructured.NestedString(u.Object, "spec", "selector", "matchLabels", "app")
				return app
			},
			want: "api-v2",
		},
		{
			name:    "job template",
			fixture: "job-template.yaml",
			before:  []string{"COMMAND", "migrate-v1"},
			after:   []string{"COMMAND", "migrate-v2"},
			field:   "spec.template",
			changed: firstCommand,
			want:    "migrate-v2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createNamespace()
			mustApply(t, f.manager("app"), f.load(tt.fixture, tt.before...))
			changed := f.load(tt.fixture, tt.after...)
			obj := apply.MetadataOf(changed[0])
			old := f.get(obj)

			t.Run("without force", func(t *testing.T) {
				m, log := f.recordingManager("app")
				_, err := m.Apply(context.Background(), changed)

				// ErrImmutable is reachable through the failure, not yet through
				// err itself: *ValidationError has no Unwrap. Nor does err's message
				// carry the hint about force (reasonOf prints the server's message).
				failure := validationFailures(t, err)[obj.String()]
				if failure == nil {
					t.Fatalf("the error does not name %s: %v", obj, err)
				}
				if !errors.Is(failure, apply.ErrImmutable) {
					t.Errorf("the failure does not wrap ErrImmutable: %v", failure)
				}
				var immutable *apply.ImmutableError
				if !errors.As(failure, &immutable) {
					t.Fatalf("the failure is not an *ImmutableError: %v", failure)
				}
				if !containsPrefix(immutable.Fields, tt.field) {
					t.Errorf("fields = %v, want %s", immutable.Fields, tt.field)
				}
				if msg := immutable.Error(); !strings.Contains(msg, tt.field) || !strings.Contains(msg, "force") {
					t.Errorf("message %q should name %s and mention force", msg, tt.field)
				}
				if !strings.Contains(err.Error(), tt.field) {
					t.Errorf("message %q does not name %s", err, tt.field)
				}
				if writes := log.Writes(); len(writes) != 0 {
					t.Errorf("wrote %v, want nothing", writes)
				}
				if got := f.get(obj); got.GetResourceVersion() != old.GetResourceVersion() {
					t.Error("the object changed")
				}
			})

			t.Run("with force", func(t *testing.T) {
				m, log := f.recordingManager("app", func(o *apply.Options) { o.Force = true })
				cs := mustApply(t, m, changed)

				if diff := cmp.Diff(map[string]apply.Action{obj.String(): apply.Recreated}, actions(cs)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"delete " + obj.String(), "apply " + obj.String()}, log.Writes()); diff != "" {
					t.Errorf("writes (-want +got):\n%s", diff)
				}
				live := f.get(obj)
				if live.GetUID() == old.GetUID() {
					t.Errorf("UID unchanged (%s): the object was not recreated", old.GetUID())
				}
				if got := tt.changed(live); got != tt.want {
					t.Errorf("after the recreate: %q, want %q", got, tt.want)
				}
				if ok, _ := f.exists(scratch(obj)); ok {
					t.Errorf("the dry-run replacement %s exists", scratch(obj))
				}
			})
		})
	}
}

func TestApplyRefusesAnObjectOwnedByAnotherStack(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := f.load("configmap.yaml", "NAME", "shared", "VALUE", "from-a")
	mustApply(t, f.manager("a"), objs)
	obj := apply.MetadataOf(objs[0])
	before := f.get(obj)

	m, log := f.recordingManager("b")
	cs, err := m.Apply(context.Background(), f.load("configmap.yaml", "NAME", "shared", "VALUE", "from-b"))

	// ErrOwnedElsewhere is reachable through the failure, not yet through err
	// itself: *ValidationError has no Unwrap.
	failure := validationFailures(t, err)[obj.String()]
	if failure == nil {
		t.Fatalf("the error does not name %s: %v", obj, err)
	}
	if !errors.Is(failure, apply.ErrOwnedElsewhere) {
		t.Errorf("the failure does not wrap ErrOwnedElsewhere: %v", failure)
	}
	if want := "Stack " + stackNamespace + "/a"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not name %s", err, want)
	}
	if len(cs.Changes) != 0 || len(log.Writes()) != 0 {
		t.Errorf("change set %v, writes %v; want none", cs.Changes, log.Writes())
	}
	after := f.get(obj)
	if after.GetResourceVersion() != before.GetResourceVersion() {
		t.Error("the object was written")
	}
	if got := after.GetLabels()[apply.OwnerNameLabel]; got != "a" {
		t.Errorf("owner label = %q, want a", got)
	}
}

func TestApplyTakesOverFieldsOfAnotherManager(t *testing.T) {
	tests := []struct {
		name    string
		manager string
		write   func(ctx context.Context, c client.Client, cm *unstructured.Unstructured) error
	}{
		{
			name:    "kubectl client-side apply",
			manager: "kubectl-client-side-apply",
			write: func(ctx context.Context, c client.Client, cm *unstructured.Unstructured) error {
				return c.Create(ctx, cm, client.FieldOwner("kubectl-client-side-apply"))
			},
		},
		{
			name:    "another server-side apply manager",
			manager: "helm",
			write: func(ctx context.Context, c client.Client, cm *unstructured.Unstructured) error {
				return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(cm), client.FieldOwner("helm"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createNamespace()
			theirs := f.load("configmap.yaml", "NAME", "taken-over", "VALUE", "1")[0]
			if err := tt.write(context.Background(), f.live, theirs); err != nil {
				t.Fatalf("writing as %s: %v", tt.manager, err)
			}
			objs := f.load("configmap.yaml", "NAME", "taken-over", "VALUE", "2")

			cs := mustApply(t, f.manager("app"), objs)

			if diff := cmp.Diff(map[string]apply.Action{"ConfigMap/" + f.Namespace + "/taken-over": apply.Configured}, actions(cs)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			live := f.get(apply.MetadataOf(objs[0]))
			if x, _, _ := unstructured.NestedString(live.Object, "data", "x"); x != "2" {
				t.Errorf("data.x = %q, want 2", x)
			}
			if owner := fieldOwner(live, "f:data", "f:x"); owner != "flotilla" {
				t.Errorf("data.x is managed by %q, want flotilla", owner)
			}
		})
	}
}

func TestApplyRevertsDrift(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := f.load("configmap.yaml", "NAME", "drifted", "VALUE", "desired")
	mustApply(t, f.manager("app"), objs)
	edited := f.get(apply.MetadataOf(objs[0]))
	if err := unstructured.SetNestedField(edited.Object, "edited by hand", "data", "x"); err != nil {
		t.Fatal(err)
	}
	if err := f.live.Update(context.Background(), edited, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatalf("editing: %v", err)
	}

	cs := mustApply(t, f.manager("app"), objs)

	if got := cs.Count(apply.Configured); got != 1 {
		t.Errorf("change set %v, want the ConfigMap configured", cs.Changes)
	}
	live := f.get(apply.MetadataOf(objs[0]))
	if x, _, _ := unstructured.NestedString(live.Object, "data", "x"); x != "desired" {
		t.Errorf("data.x = %q, want desired", x)
	}
}

// resourceVersions returns each object's resourceVersion by String.
func resourceVersions(f *fixture, objs []*unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, m := range metadataOf(objs) {
		out[m.String()] = f.get(m).GetResourceVersion()
	}
	return out
}

// managedBy reports whether u has a managedFields entry of manager and op.
func managedBy(u *unstructured.Unstructured, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, e := range u.GetManagedFields() {
		if e.Manager == manager && e.Operation == op {
			return true
		}
	}
	return false
}

// fieldOwner returns the manager whose field set holds the path, e.g.
// "f:data", "f:x"; "" if none does.
func fieldOwner(u *unstructured.Unstructured, path ...string) string {
	for _, e := range u.GetManagedFields() {
		if e.FieldsV1 == nil {
			continue
		}
		var set map[string]any
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &set); err != nil {
			continue
		}
		node, ok := any(set), true
		for _, p := range path {
			var m map[string]any
			if m, ok = node.(map[string]any); !ok {
				break
			}
			if node, ok = m[p]; !ok {
				break
			}
		}
		if ok {
			return e.Manager
		}
	}
	return ""
}

// hasCondition reports whether u's status has a condition of the type and status.
func hasCondition(u *unstructured.Unstructured, condType, status string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == condType && m["status"] == status {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// firstCommand returns the command of the first container of a Job.
func firstCommand(job *unstructured.Unstructured) string {
	containers, _, _ := unstructured.NestedSlice(job.Object, "spec", "template", "spec", "containers")
	if len(containers) == 0 {
		return ""
	}
	cmd, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "command")
	if len(cmd) == 0 {
		return ""
	}
	return cmd[0]
}

// scratch is the name under which a forced recreate dry-runs the replacement.
func scratch(m apply.ObjMetadata) apply.ObjMetadata {
	m.Name += "-flotilla-dry-run"
	return m
}

// TestApplyUnchangedWhenAnotherWriterChangesTheObjectMeanwhile: a write by
// someone else between the engine's read and its dry-run (a status update,
// another manager's label) does not count the object as configured, and the
// engine writes nothing.
func TestApplyUnchangedWhenAnotherWriterChangesTheObjectMeanwhile(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	objs := f.load("configmap.yaml", "NAME", "busy", "VALUE", "1")
	mustApply(t, f.manager("busy"), objs)

	var once sync.Once
	c := interceptor.NewClient(f.live, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			once.Do(func() {
				other := obj.DeepCopyObject().(client.Object)
				patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"other":"writer"}}}`))
				if err := c.Patch(ctx, other, patch, client.FieldOwner("other-writer")); err != nil {
					t.Errorf("the other writer's patch: %v", err)
				}
			})
			return nil
		},
	})
	cs := mustApply(t, apply.NewManager(c, f.options("busy")), objs)

	if got := cs.Count(apply.Unchanged); got != 1 {
		t.Errorf("changes %v, want the ConfigMap unchanged: only someone else wrote it", cs.Changes)
	}
}

// TestForceNeverRecreatesWhatHoldsData: an immutable change to a
// PersistentVolumeClaim is refused even with force, naming why, and the
// claim stays.
func TestForceNeverRecreatesWhatHoldsData(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	mustApply(t, f.manager("app"), f.load("pvc-storage-class.yaml", "CLASS", "fast"))
	changed := f.load("pvc-storage-class.yaml", "CLASS", "slow")
	obj := apply.MetadataOf(changed[0])
	before := f.get(obj)

	m, log := f.recordingManager("app", func(o *apply.Options) { o.Force = true })
	_, err := m.Apply(context.Background(), changed)
	failure := validationFailures(t, err)[obj.String()]
	if failure == nil || !errors.Is(failure, apply.ErrImmutable) {
		t.Fatalf("want an immutable-field failure naming %s, got %v", obj, err)
	}
	if msg := failure.Error(); !strings.Contains(msg, "force does not recreate a PersistentVolumeClaim") || !strings.Contains(msg, "data") {
		t.Errorf("the failure does not say why force does not recreate it: %q", msg)
	}
	if writes := log.Writes(); len(writes) != 0 {
		t.Errorf("wrote %v, want nothing", writes)
	}
	if after := f.get(obj); after.GetUID() != before.GetUID() {
		t.Errorf("the claim was recreated")
	}
}
