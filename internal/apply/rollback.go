package apply

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rollBack undoes the prerequisites (CRDs and Namespaces) written so that
// the rest of a set could be dry-run, after that dry-run refused the set:
// what this pass created is deleted (only that very object: a UID
// precondition), what it changed gets back the spec, labels and
// annotations it had. It returns the changes still in effect (those it
// could not undo) and how many it undid.
func (m *Manager) rollBack(ctx context.Context, cs ChangeSet, prereqs []*plan) (ChangeSet, int) {
	byKey := make(map[string]*plan, len(prereqs))
	for _, p := range prereqs {
		byKey[p.meta.String()] = p
	}
	var kept ChangeSet
	undone := 0
	for _, c := range cs.Changes {
		p := byKey[c.Object.String()]
		if p == nil || c.Action == Unchanged {
			kept.Changes = append(kept.Changes, c)
			continue
		}
		if err := m.undo(ctx, p); err != nil {
			c.Reason = "roll back failed: " + reasonOf(err)
			kept.Changes = append(kept.Changes, c)
			continue
		}
		undone++
	}
	return kept, undone
}

// undo puts one prerequisite back as it was before this pass.
func (m *Manager) undo(ctx context.Context, p *plan) error {
	if !p.exists {
		if p.result == nil {
			return fmt.Errorf("no record of the created object")
		}
		uid := p.result.GetUID()
		err := m.client.Delete(ctx, p.meta.Unstructured(), client.Preconditions{UID: &uid})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	current := p.meta.Unstructured()
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(current), current); err != nil {
		return err
	}
	restored := current.DeepCopy()
	for _, field := range []string{"spec", "metadata.labels", "metadata.annotations", "metadata.managedFields"} {
		restoreField(restored, p.live, field)
	}
	return m.client.Update(ctx, restored, client.FieldOwner(m.opts.FieldManager))
}

// restoreField copies the dotted field path from before into u, or removes
// it from u when before had none.
func restoreField(u, before *unstructured.Unstructured, path string) {
	fields := strings.Split(path, ".")
	v, found, _ := unstructured.NestedFieldCopy(before.Object, fields...)
	if !found {
		unstructured.RemoveNestedField(u.Object, fields...)
		return
	}
	_ = unstructured.SetNestedField(u.Object, v, fields...)
}
