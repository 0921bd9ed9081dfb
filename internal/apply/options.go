package apply

import "time"

// Owner labels mark the Stack that applied an object.
const (
	OwnerNameLabel      = "stack.flotilla.io/name"
	OwnerNamespaceLabel = "stack.flotilla.io/namespace"
	// PruneAnnotation set to "disabled" keeps an object when it leaves the inventory.
	PruneAnnotation = "flotilla.io/prune"
)

// Options configure one apply, prune or wait.
type Options struct {
	// FieldManager is the server-side apply field manager.
	FieldManager string
	// Concurrency bounds the requests in flight within a stage.
	Concurrency int
	// Force recreates objects whose change hits an immutable field.
	Force bool
	// OwnerName and OwnerNamespace identify the Stack; objects get them as labels.
	OwnerName, OwnerNamespace string
	// Poll is the interval between health checks in Wait.
	Poll time.Duration
	// CRDTimeout bounds the wait for a new CRD to be Established.
	CRDTimeout time.Duration
}

// DefaultOptions returns the options the agent uses.
func DefaultOptions() Options {
	return Options{FieldManager: "flotilla", Concurrency: 8, Poll: time.Second, CRDTimeout: time.Minute}
}

// Owner returns "namespace/name" of the Stack.
func (o Options) Owner() string { return o.OwnerNamespace + "/" + o.OwnerName }
