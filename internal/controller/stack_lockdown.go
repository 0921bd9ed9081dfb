package controller

import (
	"fmt"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// Lockdown are the agent's multi-tenant settings for Stacks.
type Lockdown struct {
	// NoCrossNamespaceRefs refuses a sourceRef or dependsOn entry in
	// another namespace than the Stack's.
	NoCrossNamespaceRefs bool
	// DefaultServiceAccount is the ServiceAccount (in the Stack's
	// namespace) that a Stack without serviceAccountName applies as; empty
	// means the agent's own identity.
	DefaultServiceAccount string
}

// crossNamespaceRefs returns a Stalled failure naming the first reference
// that leaves the Stack's namespace, when the agent refuses them.
func (l Lockdown) crossNamespaceRefs(obj *v1alpha1.Stack) *failure {
	if !l.NoCrossNamespaceRefs {
		return nil
	}
	refuse := func(field, ns string) *failure {
		return stalled(v1alpha1.ReasonAccessDenied, fmt.Sprintf(
			"%s is in namespace %s: this agent refuses references across namespaces (--no-cross-namespace-refs); keep it in %s", field, ns, obj.Namespace))
	}
	if ns := obj.Spec.SourceRef.Namespace; ns != "" && ns != obj.Namespace {
		return refuse("spec.sourceRef", ns)
	}
	for i, d := range obj.Spec.DependsOn {
		if d.Namespace != "" && d.Namespace != obj.Namespace {
			return refuse(fmt.Sprintf("spec.dependsOn[%d] (%s)", i, d.Name), d.Namespace)
		}
	}
	return nil
}

// identity is the user obj applies, prunes and watches as: its
// serviceAccountName, else the agent's default service account, else the
// agent itself.
func (l Lockdown) identity(obj *v1alpha1.Stack) string {
	if id := stackspec.Identity(obj); id != "" || l.DefaultServiceAccount == "" {
		return id
	}
	return "system:serviceaccount:" + obj.Namespace + ":" + l.DefaultServiceAccount
}
