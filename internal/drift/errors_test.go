package drift

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestWatchErrorNamesKindPlaceAndIdentity(t *testing.T) {
	deployments := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	cases := []struct {
		name string
		err  *WatchError
		want string
	}{
		{"namespaced kind as a ServiceAccount",
			&WatchError{Kind: deployments, Namespace: "shop", Identity: "system:serviceaccount:shop:deployer", Err: ErrWatchForbidden},
			"cannot watch Deployment.apps in namespace shop as system:serviceaccount:shop:deployer: list and watch are forbidden"},
		{"cluster-scoped core kind as the agent",
			&WatchError{Kind: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, Err: ErrWatchForbidden},
			"cannot watch Namespace cluster-wide as the agent's own identity: list and watch are forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !errors.Is(errors.Join(errors.New("other"), tc.err), ErrWatchForbidden) {
				t.Error("a joined WatchError does not match ErrWatchForbidden")
			}
		})
	}
}
