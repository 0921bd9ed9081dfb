package stackspec

import (
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

// ApplyOptions returns the apply engine's options for obj: base (the field
// manager, the requests in flight, the polls) with what the Stack decides,
// force and the owner labels. The agent and `flotilla diff` both apply
// a Stack with these.
func ApplyOptions(base apply.Options, obj *v1alpha1.Stack) apply.Options {
	base.Force = obj.Spec.Force
	base.OwnerName, base.OwnerNamespace = obj.Name, obj.Namespace
	return base
}
