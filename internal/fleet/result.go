package fleet

import (
	"fmt"
	"sort"
)

// Result is the plan of a change to a fleet repository.
type Result struct {
	// Base and Head are the two revisions compared.
	Base Revision `json:"base"`
	Head Revision `json:"head"`
	// Clusters holds every cluster of either revision, by name.
	Clusters []ClusterPlan `json:"clusters"`
	// Warnings concern the fleet as a whole (a change reaching many clusters).
	Warnings []Warning `json:"warnings"`
	// Renders counts the renders run and those answered from the cache.
	Renders RenderStats `json:"-"`
}

// Revision is one side of the comparison.
type Revision struct {
	// Name is the short commit hash, or "working tree".
	Name string `json:"name"`
	// Description says where it comes from ("merge-base of HEAD and main").
	Description string `json:"description,omitempty"`
}

// RenderStats count the renders of a plan.
type RenderStats struct {
	// Builds is how many renders ran; Reused how many were answered from
	// the cache (a base shared by clusters, inputs unchanged between
	// revisions); Substituted how many were made from a shared render by
	// putting a cluster's variables in (a base rendered once for every
	// cluster that substitutes its own values in it).
	Builds, Reused, Substituted int64
}

// ClusterStatus says what the change does to a cluster.
type ClusterStatus string

// The states of a cluster in a plan.
const (
	ClusterUnchanged ClusterStatus = "unchanged"
	ClusterChanged   ClusterStatus = "changed"
	ClusterFailed    ClusterStatus = "failed" // something of it does not render at head
)

// ClusterPlan is what the change does to one cluster.
type ClusterPlan struct {
	Name   string        `json:"name"`
	Status ClusterStatus `json:"status"`
	// Stacks are the cluster's Stacks: "cluster" (its root, clusters/<name>)
	// first, then the others in dependsOn order.
	Stacks   []StackPlan `json:"stacks"`
	Failures []Failure   `json:"failures"`
	Warnings []Warning   `json:"warnings"`
}

// StackStatus says what the change does to a Stack.
type StackStatus string

// The states of a Stack in a plan.
const (
	StackUnchanged  StackStatus = "unchanged"
	StackChanged    StackStatus = "changed"
	StackAdded      StackStatus = "added"   // the Stack is new at head
	StackRemoved    StackStatus = "removed" // the Stack is gone at head
	StackFailed     StackStatus = "failed"  // it does not render at head
	StackNotPlanned StackStatus = "not-planned"
	StackCannotPlan StackStatus = "cannot-plan"
)

// RootStack is the name under which a cluster's root (clusters/<name>,
// what the root Stack created by bootstrap applies) appears in a plan.
const RootStack = "cluster"

// StackPlan is what the change does to one Stack of a cluster.
type StackPlan struct {
	Name      string      `json:"name"`
	Namespace string      `json:"namespace"`
	Path      string      `json:"path"`
	Status    StackStatus `json:"status"`
	// Reason explains not-planned, cannot-plan and failed.
	Reason  string         `json:"reason,omitempty"`
	Prune   bool           `json:"prune"`
	Added   []ObjectRef    `json:"added"`
	Changed []ObjectChange `json:"changed"`
	Removed []ObjectRef    `json:"removed"`
}

// HasChanges says whether the Stack adds, changes or removes an object.
func (s StackPlan) HasChanges() bool {
	return len(s.Added)+len(s.Changed)+len(s.Removed) > 0
}

// ObjectRef names an object.
type ObjectRef struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String is Kind namespace/name, or Kind name for a cluster-scoped object.
func (o ObjectRef) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// key identifies the object independently of its API version.
func (o ObjectRef) key() string {
	return o.Group + "/" + o.Kind + "/" + o.Namespace + "/" + o.Name
}

// ObjectChange is a changed object and its changed fields.
type ObjectChange struct {
	Object ObjectRef     `json:"object"`
	Fields []FieldChange `json:"fields"`
}

// FieldOp says how a field changed.
type FieldOp string

// The ways a field changes.
const (
	FieldAdded   FieldOp = "added"
	FieldChanged FieldOp = "changed"
	FieldRemoved FieldOp = "removed"
)

// FieldChange is one changed field: its path (spec.replicas,
// spec.template.spec.containers[name=web].image, metadata.labels["a/b"]),
// and its values as compact JSON. A multi-line string shows a line diff in
// Lines instead. Hidden means the values are not shown (a Secret's data):
// only the key and the operation are.
type FieldChange struct {
	Path   string   `json:"path"`
	Op     FieldOp  `json:"op"`
	Before string   `json:"before,omitempty"`
	After  string   `json:"after,omitempty"`
	Lines  []string `json:"lines,omitempty"`
	Hidden bool     `json:"hidden,omitempty"`
}

// Failure is a render that fails at head: the cluster would break.
type Failure struct {
	Cluster string `json:"cluster"`
	Stack   string `json:"stack"`
	// Path and Line locate the cause (relative to the fleet directory) when known.
	Path    string `json:"path,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Location is path:line, path, or "".
func (f Failure) Location() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", f.Path, f.Line)
	}
	return f.Path
}

// WarningKind classifies a warning.
type WarningKind string

// The kinds of warnings.
const (
	WarnPrune       WarningKind = "prune"        // an object will be deleted
	WarnPruneCap    WarningKind = "prune-cap"    // the prune cap holds the removals back
	WarnOrphan      WarningKind = "orphan"       // an object leaves Git but stays in the cluster
	WarnImmutable   WarningKind = "immutable"    // a change the API server refuses without force
	WarnNamespace   WarningKind = "namespace"    // a Namespace, and all in it, will be deleted
	WarnCRD         WarningKind = "crd"          // a CRD, and every object of its kind, will be deleted
	WarnWide        WarningKind = "wide"         // the change reaches many clusters
	WarnCannotPlan  WarningKind = "cannot-plan"  // variables come from the cluster
	WarnBaseFailure WarningKind = "base-failure" // the base revision did not render
)

// Warning is a risk a reviewer should read.
type Warning struct {
	Kind    WarningKind `json:"kind"`
	Cluster string      `json:"cluster,omitempty"`
	Stack   string      `json:"stack,omitempty"`
	Object  string      `json:"object,omitempty"`
	Message string      `json:"message"`
}

// Changed says whether any cluster changes.
func (r *Result) Changed() bool {
	for _, c := range r.Clusters {
		if c.Status != ClusterUnchanged {
			return true
		}
	}
	return false
}

// Failures lists every render failure at head, by cluster.
func (r *Result) Failures() []Failure {
	var out []Failure
	for _, c := range r.Clusters {
		out = append(out, c.Failures...)
	}
	return out
}

// Count returns how many clusters are in each state.
func (r *Result) Count() (changed, unchanged, failed int) {
	for _, c := range r.Clusters {
		switch c.Status {
		case ClusterChanged:
			changed++
		case ClusterFailed:
			failed++
		default:
			unchanged++
		}
	}
	return changed, unchanged, failed
}

// AllWarnings lists the fleet's warnings, then every cluster's.
func (r *Result) AllWarnings() []Warning {
	out := append([]Warning{}, r.Warnings...)
	for _, c := range r.Clusters {
		out = append(out, c.Warnings...)
	}
	return out
}

func sortRefs(refs []ObjectRef) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].sortKey() < refs[j].sortKey() })
}

func (o ObjectRef) sortKey() string {
	return o.Kind + "/" + o.Namespace + "/" + o.Name + "/" + o.Group
}
