package fleet

import (
	"fmt"
	"strings"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// stackWarner collects the warnings of one Stack of one cluster.
type stackWarner struct {
	cluster, stack string
	warnings       []Warning
}

func (w *stackWarner) add(kind WarningKind, object, msg string) {
	w.warnings = append(w.warnings, Warning{Kind: kind, Cluster: w.cluster, Stack: w.stack, Object: object, Message: msg})
}

// removed warns about objects that leave the Stack: pruned with prune:
// true, left behind otherwise; a Namespace or a CRD takes what it holds.
// inventory is how many objects the Stack held before (the base render),
// or 0 when the Stack itself goes (its deletion prunes everything): when
// the Stack's prune cap would hold the removals back, as the agent does,
// one warning says so instead.
func (w *stackWarner) removed(st *v1alpha1.Stack, refs []ObjectRef, inventory int) {
	if pc := stackspec.PruneCapOf(st); st.Spec.Prune && pc.HoldsBack(len(refs), inventory) {
		w.add(WarnPruneCap, "", "nothing will be pruned: the agent would be "+pc.Refusal(len(refs), inventory))
		return
	}
	for _, ref := range refs {
		obj := ref.String()
		if !st.Spec.Prune {
			w.add(WarnOrphan, obj, "leaves Git but stays in the cluster (the Stack has prune: false): delete it by hand if it should go")
			continue
		}
		switch {
		case ref.Group == "" && ref.Kind == "Namespace":
			w.add(WarnNamespace, obj, "will be deleted, with every object in it")
		case ref.Group == "apiextensions.k8s.io" && ref.Kind == "CustomResourceDefinition":
			w.add(WarnCRD, obj, "will be deleted, with every object of its kind in the cluster")
		default:
			w.add(WarnPrune, obj, "will be deleted (pruned)")
		}
	}
}

// immutable warns about changes to fields the API server does not let
// change.
func (w *stackWarner) immutable(st *v1alpha1.Stack, ref ObjectRef, fields []string) {
	what := strings.Join(fields, ", ")
	if st.Spec.Force {
		w.add(WarnImmutable, ref.String(), fmt.Sprintf("immutable field changed (%s): the Stack has force: true, so the object will be deleted and recreated", what))
		return
	}
	w.add(WarnImmutable, ref.String(), fmt.Sprintf("immutable field changed (%s): the apply will fail; set force: true on the Stack to recreate the object, or keep the field", what))
}
