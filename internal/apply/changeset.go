package apply

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Action is what happened to one object.
type Action string

// Actions recorded in a ChangeSet.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Recreated  Action = "recreated"
	Deleted    Action = "deleted"
	// Skipped objects were left alone on purpose (prune disabled, not owned).
	Skipped Action = "skipped"
)

// Change is one object and what happened to it.
type Change struct {
	Object ObjMetadata
	Action Action
	// Reason explains a Skipped action.
	Reason string `json:",omitempty"`
	// Result is the object as the server holds it after an apply (the live
	// object when unchanged), with its managedFields; nil after a delete.
	Result *unstructured.Unstructured `json:"-"`
}

// ChangeSet lists what one operation did, object by object.
type ChangeSet struct {
	Changes []Change
}

// Add records a change.
func (cs *ChangeSet) Add(m ObjMetadata, a Action, reason string) {
	cs.Changes = append(cs.Changes, Change{Object: m, Action: a, Reason: reason})
}

// addResult records an applied object with the server's copy of it.
func (cs *ChangeSet) addResult(m ObjMetadata, a Action, result *unstructured.Unstructured) {
	cs.Changes = append(cs.Changes, Change{Object: m, Action: a, Result: result})
}

// Append adds every change of other.
func (cs *ChangeSet) Append(other ChangeSet) {
	cs.Changes = append(cs.Changes, other.Changes...)
}

// Count returns how many changes have action a.
func (cs ChangeSet) Count(a Action) int {
	n := 0
	for _, c := range cs.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Objects returns the objects of changes with one of the actions.
func (cs ChangeSet) Objects(actions ...Action) []ObjMetadata {
	var out []ObjMetadata
	for _, c := range cs.Changes {
		for _, a := range actions {
			if c.Action == a {
				out = append(out, c.Object)
				break
			}
		}
	}
	return out
}
