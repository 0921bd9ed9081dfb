package stackspec

import (
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Identity returns the user a Stack acts as: the user name of its
// serviceAccountName, or "" for the agent's own identity.
func Identity(obj *v1alpha1.Stack) string {
	if sa := obj.Spec.ServiceAccountName; sa != "" {
		return "system:serviceaccount:" + obj.Namespace + ":" + sa
	}
	return ""
}

// ConfigFor returns a copy of cfg that acts as identity by impersonation;
// an empty identity keeps cfg's own.
func ConfigFor(cfg *rest.Config, identity string) *rest.Config {
	out := rest.CopyConfig(cfg)
	if identity != "" {
		out.Impersonate = rest.ImpersonationConfig{UserName: identity}
	}
	return out
}

// IdentityName names identity in messages.
func IdentityName(identity string) string {
	if identity == "" {
		return "the agent's own identity"
	}
	return identity
}
