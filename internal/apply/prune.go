package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Prune deletes stale objects, namespaced ones first, Namespaces and CRDs
// last. It leaves alone objects annotated flotilla.io/prune: disabled and
// objects that carry another owner's labels (or none), reporting them as
// Skipped. Objects whose delete failed are returned in the error and are not
// in the ChangeSet, so the caller keeps them in the inventory.
func (m *Manager) Prune(ctx context.Context, stale []ObjMetadata) (ChangeSet, error) {
	groups := map[int][]ObjMetadata{}
	for _, o := range stale {
		groups[pruneRank(o)] = append(groups[pruneRank(o)], o)
	}
	ranks := make([]int, 0, len(groups))
	for r := range groups {
		ranks = append(ranks, r)
	}
	sort.Ints(ranks)
	var cs ChangeSet
	var errs []error
	var mu sync.Mutex
	owned := m.listOwned(ctx, stale)
	for _, r := range ranks {
		errs = append(errs, each(ctx, m.opts.Concurrency, groups[r], func(ctx context.Context, o ObjMetadata) error {
			action, reason, err := m.pruneOne(ctx, o, owned)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				return &ObjectError{Object: o, Op: "delete", Err: err}
			}
			cs.Add(o, action, reason)
			return nil
		})...)
	}
	sortChanges(&cs)
	return cs, errors.Join(errs...)
}

// pruneOne deletes o unless it must stay. Its live copy comes from its
// LIST when the LIST found it, and is read on its own otherwise (gone, not
// this Stack's, or a LIST that failed): the read tells which.
func (m *Manager) pruneOne(ctx context.Context, o ObjMetadata, owned owned) (Action, string, error) {
	if live, _ := owned.get(o); live != nil {
		return m.deleteUnlessKept(ctx, live)
	}
	live := o.Unstructured()
	err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live)
	if apierrors.IsNotFound(err) {
		return Deleted, "", nil // already gone
	}
	if isNoKind(err) {
		// The inventory's version is not served. If another version of the
		// kind is, the object may still exist: prune it through that one.
		// If no version is, the kind (and with it every object) is gone.
		mapping, merr := m.client.RESTMapper().RESTMapping(o.GroupKind())
		if merr != nil {
			return m.kindGone(o, merr)
		}
		o.Version = mapping.GroupVersionKind.Version
		live = o.Unstructured()
		err = m.client.Get(ctx, client.ObjectKeyFromObject(live), live)
		if apierrors.IsNotFound(err) {
			return Deleted, "", nil
		}
	}
	if err != nil {
		return "", "", err
	}
	return m.deleteUnlessKept(ctx, live)
}

// deleteUnlessKept deletes live unless keep says it stays.
func (m *Manager) deleteUnlessKept(ctx context.Context, live *unstructured.Unstructured) (Action, string, error) {
	if reason, release := m.keep(live); reason != "" {
		if release {
			return Skipped, reason, m.release(ctx, live)
		}
		return Skipped, reason, nil
	}
	// The UID precondition deletes exactly the object judged above: if it
	// was deleted and created again meanwhile (by someone else, with other
	// labels), the delete fails and the next pass judges the new one.
	uid := live.GetUID()
	err := m.client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground), client.Preconditions{UID: &uid})
	if apierrors.IsConflict(err) {
		return "", "", fmt.Errorf("it was replaced while being pruned (UID %s is gone); it is judged again on the next pass: %w", uid, err)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return "", "", err
	}
	return Deleted, "", nil
}

// kindGone decides about an object whose kind has no mapping. Only when
// discovery answers that the kind is not served (no match) is the kind
// gone, and every object of it with it. A discovery failure (an aggregated
// API that does not answer, a gap while the API server restarts) keeps the
// object in the inventory: it may still exist, and the next pass looks
// again.
func (m *Manager) kindGone(o ObjMetadata, mappingErr error) (Action, string, error) {
	if !meta.IsNoMatchError(mappingErr) {
		return "", "", fmt.Errorf("the API server cannot say whether kind %s is served (%w); kept until it can", o.GroupKind(), mappingErr)
	}
	return Deleted, "", nil
}

// keep returns why Prune leaves live alone ("" when it deletes it), and
// whether it releases the object (removes the owner labels) as it does.
func (m *Manager) keep(live *unstructured.Unstructured) (reason string, release bool) {
	l := live.GetLabels()
	if live.GetAnnotations()[PruneAnnotation] == "disabled" {
		return PruneAnnotation + ": disabled", true
	}
	if m.opts.OwnerName != "" && (l[OwnerNameLabel] != m.opts.OwnerName || l[OwnerNamespaceLabel] != m.opts.OwnerNamespace) {
		return "not labelled as applied by Stack " + m.opts.Owner(), false
	}
	return "", false
}

// Release removes this Stack's owner labels from objects it leaves behind
// (a Stack deleted without prune), so another Stack may adopt them.
func (m *Manager) Release(ctx context.Context, objs []ObjMetadata) error {
	errs := each(ctx, m.opts.Concurrency, objs, func(ctx context.Context, o ObjMetadata) error {
		live := o.Unstructured()
		if err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live); err != nil {
			if apierrors.IsNotFound(err) || isNoKind(err) {
				return nil
			}
			return &ObjectError{Object: o, Op: "release", Err: err}
		}
		return m.release(ctx, live)
	})
	return errors.Join(errs...)
}

// release removes this Stack's owner labels from an object it keeps but no
// longer owns, so another Stack may adopt it later.
func (m *Manager) release(ctx context.Context, live *unstructured.Unstructured) error {
	l := live.GetLabels()
	if m.opts.OwnerName == "" || l[OwnerNameLabel] != m.opts.OwnerName || l[OwnerNamespaceLabel] != m.opts.OwnerNamespace {
		return nil
	}
	patch := []byte(`{"metadata":{"labels":{"` + OwnerNameLabel + `":null,"` + OwnerNamespaceLabel + `":null}}}`)
	return client.IgnoreNotFound(m.client.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch)))
}

// deleteAndWait deletes an object and waits until it is gone, for a recreate.
func (m *Manager) deleteAndWait(ctx context.Context, o ObjMetadata) error {
	live := o.Unstructured()
	if err := m.client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting for recreate: %w", err)
	}
	for {
		err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live)
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the old object to be deleted: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
