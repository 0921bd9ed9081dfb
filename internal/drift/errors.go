package drift

import (
	"errors"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// ErrWatchForbidden is the cause of a WatchError when RBAC does not let the
// identity list and watch the kind there.
var ErrWatchForbidden = errors.New("list and watch are forbidden")

// WatchError says the objects of one kind in one namespace (or cluster-wide,
// when Namespace is empty) cannot be watched for drift as Identity.
type WatchError struct {
	Kind      schema.GroupVersionKind
	Namespace string
	// Identity is the impersonated user; empty is the agent's own identity.
	Identity string
	Err      error
}

func (e *WatchError) Error() string {
	where := "cluster-wide"
	if e.Namespace != "" {
		where = "in namespace " + e.Namespace
	}
	return "cannot watch " + kindName(e.Kind) + " " + where + " as " + stackspec.IdentityName(e.Identity) + ": " + e.Err.Error()
}

func (e *WatchError) Unwrap() error { return e.Err }

// kindName is Kind.group ("Deployment.apps"), or Kind for the core group.
func kindName(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Kind
	}
	return gvk.Kind + "." + gvk.Group
}
