package cli

import (
	"errors"
	"strings"
	"testing"
)

// TestVerbsOnAnUnreachableCluster runs each verb through the command line
// against a kubeconfig whose API server refuses connections: the error
// names what the verb was reading, and a refusal that needs no cluster
// comes first.
func TestVerbsOnAnUnreachableCluster(t *testing.T) {
	kubeconfig := kubeconfigWith(t, "unreachable")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"get one Stack", []string{"get", "stack", "apps"}, "reading Stack flotilla-system/apps: "},
		{"get every Stack", []string{"get", "stacks", "-n", "team-a"}, "listing Stacks: "},
		{"get canaries", []string{"get", "canaries", "-A"}, "listing Canaries: "},
		{"suspend", []string{"suspend", "source", "fleet", "-n", "team-a"}, "reading GitRepository team-a/fleet: "},
		{"resume", []string{"resume", "stack", "apps", "--wait=false"}, "reading Stack flotilla-system/apps: "},
		{"reconcile", []string{"reconcile", "image", "policy", "podinfo"}, "reading ImagePolicy flotilla-system/podinfo: "},
		{"promote", []string{"promote", "canary", "podinfo", "-n", "apps"}, "reading Canary apps/podinfo: "},
		{"drift", []string{"drift", "-A"}, "listing Stacks: "},
		{"events", []string{"events", "--for", "stack/apps"}, "reading Stack flotilla-system/apps: "},
		{"reconcile of an unknown kind needs no cluster", []string{"reconcile", "widget", "x"}, `unknown kind "widget": use source or stack`},
		{"events --for without a name needs no cluster", []string{"events", "--for", "stack"}, `--for "stack": use stack/NAME or source/NAME`},
		{"get canaries with a name and -A needs no cluster", []string{"get", "canaries", "podinfo", "-A"}, errNameWithAllNamespaces.Error()},
		{"abort of another kind needs no cluster", []string{"abort", "stack", "apps"}, "abort takes a canary: abort canary NAME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, append(tc.args, "--kubeconfig", kubeconfig)...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("%s = %v, want an error starting with %q", strings.Join(tc.args, " "), err, tc.want)
			}
			var ec *ExitCodeError
			if errors.As(err, &ec) {
				t.Errorf("%s ends with exit code %d, want the plain error (exit 1, message printed)", strings.Join(tc.args, " "), ec.Code)
			}
		})
	}
}
