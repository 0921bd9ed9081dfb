package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// plan is one object's state after the dry-run.
type plan struct {
	desired  *unstructured.Unstructured
	meta     ObjMetadata
	exists   bool
	action   Action // Created, Configured, Unchanged or Recreated
	deferred bool   // its CRD arrives in the same set
	applied  bool
	// upgrade is a JSON patch that hands fields of client-side apply
	// managers to Flotilla's, sent before the apply.
	upgrade []byte
	// live is the object before the apply; result after it.
	live, result *unstructured.Unstructured
	// merged is the dry-run's answer: the object as the apply would leave it.
	merged *unstructured.Unstructured
}

// Apply validates objs with a server-side dry-run and, when every object
// passes, applies them stage by stage. On a validation failure the error is
// a *ValidationError naming every refused object, and nothing is written
// except the CRDs and Namespaces that objects of the set needed to exist for
// their own dry-run (they are in the ChangeSet).
// The ChangeSet lists what was written even when a later step fails, so the
// caller can record it in the inventory.
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured) (ChangeSet, error) {
	plans := m.prepare(objs)
	if err := m.validate(ctx, plans); err != nil {
		return ChangeSet{}, err
	}
	forgetDryRuns(plans)
	var cs ChangeSet
	if deferred := pending(plans); len(deferred) > 0 {
		// Objects that need a CRD or a Namespace of the same set are
		// validated once those exist: they are written first, alone.
		prereqs := prerequisites(plans)
		if err := m.applyStage(ctx, &cs, prereqs); err != nil {
			return cs, err
		}
		if err := m.waitEstablished(ctx, prereqs); err != nil {
			return cs, err
		}
		err := m.validate(ctx, deferred)
		forgetDryRuns(deferred)
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				// The revision is refused: the CRDs and Namespaces written
				// for its dry-run go back to what they were.
				cs, ve.RolledBack = m.rollBack(ctx, cs, prereqs)
				ve.Written = len(cs.Changes)
			}
			return cs, err
		}
	}
	for _, stage := range []Stage{StageDefinitions, StageClusterScope, StageResources} {
		if err := m.applyStage(ctx, &cs, byStage(plans, stage)); err != nil {
			return cs, err
		}
		if stage == StageDefinitions {
			if err := m.waitEstablished(ctx, byStage(plans, stage)); err != nil {
				return cs, err
			}
		}
	}
	sortChanges(&cs)
	return cs, nil
}

// forgetDryRuns drops the dry-runs' answers once each plan's action is
// decided: Apply needs them no more (Diff shows them), and a large set
// would hold a copy of every object through the whole apply.
func forgetDryRuns(plans []*plan) {
	for _, p := range plans {
		p.merged = nil
	}
}

// prepare labels each object with its owner.
func (m *Manager) prepare(objs []*unstructured.Unstructured) []*plan {
	plans := make([]*plan, 0, len(objs))
	for _, o := range objs {
		d := o.DeepCopy()
		labels := d.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		if m.opts.OwnerName != "" {
			labels[OwnerNameLabel] = m.opts.OwnerName
			labels[OwnerNamespaceLabel] = m.opts.OwnerNamespace
		}
		d.SetLabels(labels)
		plans = append(plans, &plan{desired: d, meta: MetadataOf(d)})
	}
	return plans
}

// validate dry-runs every plan not yet decided; it fills in each plan's
// action and returns a *ValidationError listing every failure.
func (m *Manager) validate(ctx context.Context, plans []*plan) error {
	crds, namespaces := definedKinds(plans), definedNamespaces(plans)
	missing := m.missingNamespaces(ctx, namespaces)
	var mu sync.Mutex
	var failures []*ObjectError
	live := m.listOwned(ctx, dryRunnable(plans, missing))
	errs := each(ctx, m.opts.Concurrency, plans, func(ctx context.Context, p *plan) error {
		if missing[p.meta.Namespace] && !p.deferred {
			p.deferred = true // its Namespace comes with the set: no dry-run can pass yet
			return nil
		}
		err := m.dryRun(ctx, p, live)
		waitsForSet := isNoKind(err) && crds[p.meta.GroupKind()] || namespaces[missingNamespace(err)]
		if err != nil && waitsForSet && !p.deferred {
			p.deferred = true
			return nil
		}
		if err != nil {
			mu.Lock()
			failures = append(failures, &ObjectError{Object: p.meta, Op: "dry-run", Err: err})
			mu.Unlock()
		}
		p.deferred = false
		return nil
	})
	if len(failures) > 0 {
		return &ValidationError{Failures: failures}
	}
	return errors.Join(errs...)
}

// dryRun compares the live object with the dry-run result of applying p.
// An object whose LIST answered without it is dry-run first: when the
// dry-run created it, it does not exist and there is nothing to read (the
// one request an initial apply sends per object before it writes).
// Otherwise the live object is read first (or taken from its LIST).
func (m *Manager) dryRun(ctx context.Context, p *plan, owned owned) error {
	live, listed := owned.get(p.meta)
	if listed && live == nil {
		dry, err := m.dryRunApply(ctx, p)
		if err == nil && dry.GetResourceVersion() == "" {
			// A dry-run create: stored objects always have a resourceVersion.
			p.exists, p.merged, p.action = false, dry, Created
			return nil
		}
		// It exists without this Stack's labels, or the dry-run failed: read
		// it and dry-run again, so ownership and errors are judged as always.
	}
	return m.dryRunFrom(ctx, p, live)
}

// dryRunFrom reads the live object unless given (nil: read it), then
// dry-runs p against it.
func (m *Manager) dryRunFrom(ctx context.Context, p *plan, live *unstructured.Unstructured) error {
	var err error
	if live == nil {
		live = p.meta.Unstructured()
		err = m.client.Get(ctx, client.ObjectKeyFromObject(live), live)
	}
	switch {
	case apierrors.IsNotFound(err):
		p.exists, live = false, nil
	case err != nil:
		return err
	default:
		p.exists, p.live = true, live
		if err := m.checkOwner(live); err != nil {
			return err
		}
		if p.upgrade, err = upgradePatch(live, m.opts.FieldManager); err != nil {
			return err
		}
	}
	dry, err := m.dryRunApply(ctx, p)
	if fields := immutableFields(err); fields != nil {
		return m.planRecreate(ctx, p, &ImmutableError{Fields: fields, Err: err})
	}
	if err != nil {
		return err
	}
	p.merged = dry
	if live != nil && live.GetResourceVersion() != dry.GetResourceVersion() {
		// Someone wrote the object (its status, often) between the read and
		// the dry-run: compare with what the dry-run started from.
		live = m.reread(ctx, p, live)
	}
	p.action = decide(live, dry)
	if p.upgrade != nil && p.action == Unchanged {
		p.action = Configured
	}
	return nil
}

// dryRunApply sends p's server-side apply as a dry-run and returns the
// object as the apply would leave it.
func (m *Manager) dryRunApply(ctx context.Context, p *plan) (*unstructured.Unstructured, error) {
	dry := p.desired.DeepCopy()
	err := m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(dry),
		client.FieldOwner(m.opts.FieldManager), client.ForceOwnership, client.DryRunAll)
	return dry, err
}

// dryRunnable returns the objects of plans a dry-run can reach now: those
// whose Namespace is not missing.
func dryRunnable(plans []*plan, missing map[string]bool) []ObjMetadata {
	out := make([]ObjMetadata, 0, len(plans))
	for _, p := range plans {
		if !missing[p.meta.Namespace] {
			out = append(out, p.meta)
		}
	}
	return out
}

// reread returns the object as stored now, or live when it cannot.
func (m *Manager) reread(ctx context.Context, p *plan, live *unstructured.Unstructured) *unstructured.Unstructured {
	fresh := p.meta.Unstructured()
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(fresh), fresh); err != nil {
		return live
	}
	p.live = fresh
	return fresh
}

// clientSideManagers are the field managers of `kubectl apply` without
// --server-side. Their fields move to Flotilla's manager before the first
// apply, so a field later removed from Git is removed from the cluster too
// instead of staying behind, owned by nobody who will remove it.
var clientSideManagers = sets.New("kubectl-client-side-apply", "before-first-apply")

// upgradePatch moves the fields of kubectl's client-side apply to manager,
// or returns nil when no client-side manager holds any. csaupgrade alone
// is not asked otherwise: it also returns a patch that merely re-encodes
// the managed fields of some objects (a Deployment's container ports, a
// Service's ports), which would count them as configured on every apply.
func upgradePatch(live *unstructured.Unstructured, manager string) ([]byte, error) {
	held := false
	for _, e := range live.GetManagedFields() {
		held = held || (clientSideManagers.Has(e.Manager) && e.Operation == metav1.ManagedFieldsOperationUpdate)
	}
	if !held {
		return nil, nil
	}
	return csaupgrade.UpgradeManagedFieldsPatch(live, clientSideManagers, manager)
}

// checkOwner refuses objects that another Stack applied.
func (m *Manager) checkOwner(live *unstructured.Unstructured) error {
	l := live.GetLabels()
	name, ns := l[OwnerNameLabel], l[OwnerNamespaceLabel]
	if name == "" || m.opts.OwnerName == "" || (name == m.opts.OwnerName && ns == m.opts.OwnerNamespace) {
		return nil
	}
	return &OwnershipError{Owner: ns + "/" + name}
}

// planRecreate accepts an immutable change when Force is set, the kind may
// be recreated (see neverRecreated) and a dry-run create of the
// replacement (under a scratch name) passes.
func (m *Manager) planRecreate(ctx context.Context, p *plan, immutable *ImmutableError) error {
	if !m.opts.Force {
		return immutable
	}
	if err := recreateRefused(p.meta.GroupKind(), immutable); err != nil {
		return err
	}
	scratch := p.desired.DeepCopy()
	scratch.SetName(scratchName(p.meta.Name))
	if err := m.client.Create(ctx, scratch, client.DryRunAll, client.FieldOwner(m.opts.FieldManager)); err != nil {
		return fmt.Errorf("%w; the replacement does not validate either: %s", immutable, reasonOf(err))
	}
	p.action = Recreated
	return nil
}

func scratchName(name string) string {
	const suffix = "-flotilla-dry-run"
	if len(name)+len(suffix) > 63 {
		name = name[:63-len(suffix)]
	}
	return name + suffix
}

// decide compares the live object with the dry-run result.
func decide(live, dry *unstructured.Unstructured) Action {
	if live == nil {
		return Created
	}
	if equality.Semantic.DeepEqual(comparable(live), comparable(dry)) {
		return Unchanged
	}
	return Configured
}

// comparable strips what changes on every request without a real change.
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy().Object
	unstructured.RemoveNestedField(c, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(c, "metadata", "generation")
	if mf, ok, _ := unstructured.NestedSlice(c, "metadata", "managedFields"); ok {
		for _, e := range mf {
			if entry, ok := e.(map[string]any); ok {
				delete(entry, "time")
			}
		}
		_ = unstructured.SetNestedSlice(c, mf, "metadata", "managedFields")
	}
	return c
}

// applyStage applies the plans of one stage in parallel.
func (m *Manager) applyStage(ctx context.Context, cs *ChangeSet, plans []*plan) error {
	var mu sync.Mutex
	errs := each(ctx, m.opts.Concurrency, plans, func(ctx context.Context, p *plan) error {
		if p.applied {
			return nil
		}
		err := m.applyOne(ctx, p)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			return &ObjectError{Object: p.meta, Op: "apply", Err: err}
		}
		p.applied = true
		cs.addResult(p.meta, p.action, p.result)
		return nil
	})
	return errors.Join(errs...)
}

func (m *Manager) applyOne(ctx context.Context, p *plan) error {
	switch p.action {
	case Unchanged:
		p.result = p.live
		return nil
	case Recreated:
		if err := m.deleteAndWait(ctx, p.meta); err != nil {
			return err
		}
	default:
		if p.upgrade != nil {
			if err := m.client.Patch(ctx, p.meta.Unstructured(), client.RawPatch(types.JSONPatchType, p.upgrade)); err != nil {
				return fmt.Errorf("taking over fields from kubectl client-side apply: %w", err)
			}
		}
	}
	obj := p.desired.DeepCopy()
	if err := m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.FieldOwner(m.opts.FieldManager), client.ForceOwnership); err != nil {
		return err
	}
	p.result = obj
	return nil
}

// ApplyOne server-side applies a single object without a dry-run: the drift
// corrector's path, for an object whose full set was validated before. It
// returns the server's copy.
func (m *Manager) ApplyOne(ctx context.Context, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	p := m.prepare([]*unstructured.Unstructured{desired})[0]
	obj := p.desired
	err := m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.FieldOwner(m.opts.FieldManager), client.ForceOwnership)
	if err != nil {
		return nil, &ObjectError{Object: p.meta, Op: "apply", Err: err}
	}
	return obj, nil
}

func byStage(plans []*plan, s Stage) []*plan {
	var out []*plan
	for _, p := range plans {
		if StageOf(p.meta) == s {
			out = append(out, p)
		}
	}
	return out
}

func pending(plans []*plan) []*plan {
	var out []*plan
	for _, p := range plans {
		if p.deferred {
			out = append(out, p)
		}
	}
	return out
}

// definedKinds returns the kinds the CRDs of the set define.
func definedKinds(plans []*plan) map[schema.GroupKind]bool {
	kinds := map[schema.GroupKind]bool{}
	for _, p := range plans {
		if p.meta.Group != "apiextensions.k8s.io" || p.meta.Kind != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(p.desired.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(p.desired.Object, "spec", "names", "kind")
		kinds[schema.GroupKind{Group: group, Kind: kind}] = true
	}
	return kinds
}

// definedNamespaces returns the Namespaces the set creates.
func definedNamespaces(plans []*plan) map[string]bool {
	out := map[string]bool{}
	for _, p := range plans {
		if p.meta.Group == "" && p.meta.Kind == "Namespace" {
			out[p.meta.Name] = true
		}
	}
	return out
}

// missingNamespaces returns which of the set's Namespaces do not exist yet.
func (m *Manager) missingNamespaces(ctx context.Context, namespaces map[string]bool) map[string]bool {
	missing := map[string]bool{}
	for ns := range namespaces {
		live := ObjMetadata{Version: "v1", Kind: "Namespace", Name: ns}.Unstructured()
		if err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live); apierrors.IsNotFound(err) {
			missing[ns] = true
		}
	}
	return missing
}

// prerequisites returns the CRDs and Namespaces of the set.
func prerequisites(plans []*plan) []*plan {
	var out []*plan
	for _, p := range plans {
		if StageOf(p.meta) == StageDefinitions || (p.meta.Group == "" && p.meta.Kind == "Namespace") {
			out = append(out, p)
		}
	}
	return out
}

// missingNamespace returns the namespace a NotFound error says is missing.
func missingNamespace(err error) string {
	var status apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return ""
	}
	if d := status.Status().Details; d != nil && d.Kind == "namespaces" {
		return d.Name
	}
	return ""
}

func isNoKind(err error) bool {
	return meta.IsNoMatchError(err) || (apierrors.IsNotFound(err) && isMissingResource(err))
}

// isMissingResource reports a 404 for the resource type itself (a kind the
// server does not serve yet), as opposed to a missing object.
func isMissingResource(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d == nil || d.Name == ""
}

func sortChanges(cs *ChangeSet) {
	sort.SliceStable(cs.Changes, func(i, j int) bool {
		a, b := cs.Changes[i].Object, cs.Changes[j].Object
		if sa, sb := StageOf(a), StageOf(b); sa != sb {
			return sa < sb
		}
		return a.String() < b.String()
	})
}
