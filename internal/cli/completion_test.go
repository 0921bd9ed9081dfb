package cli

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/test/controlplane"
)

// complete runs cobra's hidden __complete command and returns the
// candidates and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	out, _, err := run(t, append([]string{"__complete"}, args...)...)
	if err != nil {
		t.Fatalf("__complete %q: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletionOfNames(t *testing.T) {
	controlplane.Require(t, env)
	ns := uniqueName("complete")
	createNamespace(t, env.Client, ns)
	for _, name := range []string{"apps", "infra", "apps-canary"} {
		createWithStatus(t, env.Client, fixtureStack(ns, name, 0, false, ""))
	}
	createWithStatus(t, env.Client, fixtureSource(ns, "fleet", 0, ""))
	flags := []string{"-n", ns, "--kubeconfig", env.Kubeconfig}
	kubeconfig, err := clientcmd.LoadFromFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	current := kubeconfig.CurrentContext
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"kinds", []string{"reconcile", ""}, []string{"source", "sources", "stack", "stacks", "imagerepository", "imagerepositories", "imagepolicy", "imagepolicies", "imageupdate", "imageupdates", "provider", "providers", "alert", "alerts", "receiver", "receivers"}},
		{"kinds by prefix", []string{"get", "st"}, []string{"stack", "stacks"}},
		{"reconcile stack", []string{"reconcile", "stack", ""}, []string{"apps", "apps-canary", "infra"}},
		{"by prefix", []string{"suspend", "stack", "apps"}, []string{"apps", "apps-canary"}},
		{"sources", []string{"resume", "source", ""}, []string{"fleet"}},
		{"get with a list of contexts", []string{"get", "stacks", "--context", current + ",elsewhere", "i"}, []string{"infra"}},
		{"drift takes a Stack", []string{"drift", ""}, []string{"apps", "apps-canary", "infra"}},
		{"nothing after the name", []string{"reconcile", "stack", "apps", ""}, nil},
		{"an unknown kind", []string{"reconcile", "pods", ""}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			last := len(tc.args) - 1
			args := append(append(append([]string{}, tc.args[:last]...), flags...), tc.args[last])
			got, directive := complete(t, args...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("candidates = %q, want %q", got, tc.want)
			}
			if directive != ":4" { // ShellCompDirectiveNoFileComp
				t.Errorf("directive = %s, want :4 (no file completion)", directive)
			}
		})
	}
	t.Run("another namespace", func(t *testing.T) {
		got, _ := complete(t, "reconcile", "stack", "-n", ns+"-none", "--kubeconfig", env.Kubeconfig, "")
		if len(got) != 0 {
			t.Errorf("candidates in an empty namespace = %q", got)
		}
	})
}

func TestCompletionCommandIsThere(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _, err := run(t, "completion", shell)
		if err != nil || !strings.Contains(out, "flotilla") {
			t.Errorf("completion %s = %v, %d bytes", shell, err, len(out))
		}
	}
	out, _, _ := run(t, "--help")
	if !strings.Contains(out, "completion") {
		t.Errorf("help does not list completion:\n%s", out)
	}
}
