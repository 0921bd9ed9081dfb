package apply

import (
	"context"
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ObjectDiff is what applying one object would do to the cluster, found by
// the same server-side dry-run Apply validates with, without writing.
type ObjectDiff struct {
	// Object is the object's identity.
	Object ObjMetadata
	// Action is Created, Configured, Unchanged or Recreated; for a prune
	// candidate (DiffPrune), Deleted or Skipped.
	Action Action
	// Live is the object in the cluster, noise stripped; nil when Created.
	Live *unstructured.Unstructured
	// Merged is the object as the apply would leave it (the dry-run's
	// answer), noise stripped; nil for a prune candidate.
	Merged *unstructured.Unstructured
	// Note says why Merged is the rendered object rather than the dry-run's
	// answer, or why a prune candidate is Skipped; "" otherwise.
	Note string
}

// Notes of ObjectDiffs whose Merged object is the rendered one.
const (
	// NoteComesWithSet: the object's Namespace or CRD is created by the same
	// set, so the server cannot dry-run it before the set is applied.
	NoteComesWithSet = "not validated: its Namespace or CRD comes with the same set"
	// NoteRecreated: an immutable field changes and force is on, so the
	// object is deleted and created again.
	NoteRecreated = "an immutable field changes: deleted and created again (force)"
)

// Diff dry-runs objs against the cluster as Apply would (server-side apply
// with dry-run All, the options' field manager and owner labels, force)
// and returns one ObjectDiff per object, in the order given. Nothing is
// written. Objects the dry-run refuses make the error a *ValidationError
// naming every one of them, and no diffs are returned.
//
// Action compares the objects without their noise (see StripNoise): an
// apply that would only take over field ownership is Unchanged.
func (m *Manager) Diff(ctx context.Context, objs []*unstructured.Unstructured) ([]ObjectDiff, error) {
	plans := m.prepare(objs)
	if err := m.validate(ctx, plans); err != nil {
		return nil, err
	}
	diffs := make([]ObjectDiff, 0, len(plans))
	for _, p := range plans {
		diffs = append(diffs, diffOf(p))
	}
	return diffs, nil
}

// diffOf turns a validated plan into its ObjectDiff.
func diffOf(p *plan) ObjectDiff {
	d := ObjectDiff{Object: p.meta, Action: p.action}
	keepStatus := hasStatus(p.desired)
	if p.live != nil {
		d.Live = StripNoise(p.live, keepStatus)
	}
	switch {
	case p.deferred:
		d.Action, d.Live, d.Note = Created, nil, NoteComesWithSet
		d.Merged = StripNoise(p.desired, keepStatus)
	case p.action == Recreated:
		d.Merged, d.Note = StripNoise(p.desired, keepStatus), NoteRecreated
	default:
		d.Merged = StripNoise(p.merged, keepStatus)
		d.Action = Created
		if d.Live != nil {
			d.Action = Configured
			if equality.Semantic.DeepEqual(d.Live.Object, d.Merged.Object) {
				d.Action = Unchanged
			}
		}
	}
	return d
}

// DiffPrune says what Prune would do with stale, without deleting: an
// object that still exists is Deleted, or Skipped with the reason Prune
// would give in Note (pruning disabled, another owner). Objects already
// gone are left out. Live is the object in the cluster, noise stripped.
func (m *Manager) DiffPrune(ctx context.Context, stale []ObjMetadata) ([]ObjectDiff, error) {
	var mu sync.Mutex
	found := map[string]ObjectDiff{}
	errs := each(ctx, m.opts.Concurrency, stale, func(ctx context.Context, o ObjMetadata) error {
		live := o.Unstructured()
		err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live)
		if apierrors.IsNotFound(err) || isNoKind(err) {
			return nil
		}
		if err != nil {
			return &ObjectError{Object: o, Op: "read", Err: err}
		}
		d := ObjectDiff{Object: o, Action: Deleted, Live: StripNoise(live, true)}
		if reason, _ := m.keep(live); reason != "" {
			d.Action, d.Note = Skipped, reason
		}
		mu.Lock()
		found[o.Key()] = d
		mu.Unlock()
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]ObjectDiff, 0, len(found))
	for _, o := range stale {
		if d, ok := found[o.Key()]; ok {
			out = append(out, d)
			delete(found, o.Key())
		}
	}
	return out, nil
}

// noiseFields are the metadata fields the API server sets on every write:
// they differ between two versions of an object without a real change.
var noiseFields = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// StripNoise returns a copy of u without the fields that change on every
// write (managedFields, resourceVersion, generation, uid,
// creationTimestamp), and without status unless keepStatus: a status is
// written by controllers, not by an apply, unless the rendered object
// sets one. A nil u gives nil.
func StripNoise(u *unstructured.Unstructured, keepStatus bool) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	out := u.DeepCopy()
	for _, f := range noiseFields {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	if !keepStatus {
		delete(out.Object, "status")
	}
	return out
}

// hasStatus says whether the rendered object sets a status.
func hasStatus(u *unstructured.Unstructured) bool {
	_, ok := u.Object["status"]
	return ok
}
