package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kubeconfigWith writes a kubeconfig with the given contexts (all on one
// unreachable server), the current one first, and returns its path.
func kubeconfigWith(t *testing.T, contexts ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\nusers:\n- name: u\n  user:\n    token: t\n")
	if len(contexts) == 0 {
		b.WriteString("contexts: []\n")
	} else {
		b.WriteString("contexts:\n")
		for _, name := range contexts {
			b.WriteString("- name: " + name + "\n  context:\n    cluster: c\n    user: u\n")
		}
		b.WriteString("current-context: " + contexts[0] + "\n")
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSplitContexts(t *testing.T) {
	cases := []struct {
		list string
		want []string
	}{
		{"prod", []string{"prod"}},
		{"prod,staging", []string{"prod", "staging"}},
		{" prod , staging ,", []string{"prod", "staging"}},
		{"staging,prod,staging", []string{"staging", "prod"}},
		{",,", nil},
		{"", nil},
	}
	for _, tc := range cases {
		if got := splitContexts(tc.list); !cmp.Equal(got, tc.want) {
			t.Errorf("splitContexts(%q) = %q, want %q", tc.list, got, tc.want)
		}
	}
}

func TestAllContextsAreSorted(t *testing.T) {
	got, err := allContexts(kubeconfigWith(t, "staging", "prod-us", "dev"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dev", "prod-us", "staging"}, got); diff != "" {
		t.Errorf("allContexts (-want +got):\n%s", diff)
	}
}

func TestAllContextsOfAnEmptyKubeconfig(t *testing.T) {
	_, err := allContexts(kubeconfigWith(t))
	if errString(err) != "the kubeconfig has no contexts" {
		t.Errorf("allContexts = %v", err)
	}
	_, err = allContexts(filepath.Join(t.TempDir(), "missing"))
	if err == nil || !strings.HasPrefix(err.Error(), "loading kubeconfig: ") {
		t.Errorf("allContexts of a missing file = %v, want a loading error", err)
	}
}

func TestGetContexts(t *testing.T) {
	path := kubeconfigWith(t, "staging", "prod", "dev")
	cases := []struct {
		name      string
		o         GetOptions
		want      []string
		wantMulti bool
		wantErr   string
	}{
		{"the current context", GetOptions{Kube: KubeFlags{Kubeconfig: path}}, []string{"staging"}, false, ""},
		{"one --context, even one the kubeconfig lacks", GetOptions{Kube: KubeFlags{Kubeconfig: path, Context: "elsewhere"}}, []string{"elsewhere"}, false, ""},
		{"a list of contexts, in its order", GetOptions{Kube: KubeFlags{Kubeconfig: path, Context: "prod,dev"}}, []string{"prod", "dev"}, true, ""},
		{"a list of one is several clusters' table", GetOptions{Kube: KubeFlags{Kubeconfig: path, Context: "prod,"}}, []string{"prod"}, true, ""},
		{"--all-contexts, sorted", GetOptions{Kube: KubeFlags{Kubeconfig: path}, AllContexts: true}, []string{"dev", "prod", "staging"}, true, ""},
		{"--all-contexts of a kubeconfig without any", GetOptions{Kube: KubeFlags{Kubeconfig: kubeconfigWith(t)}, AllContexts: true}, nil, false,
			"--all-contexts: the kubeconfig has no contexts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, multi, err := tc.o.contexts()
			if errString(err) != tc.wantErr {
				t.Fatalf("contexts = %v, want %q", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || multi != tc.wantMulti {
				t.Errorf("contexts = %q, %t; want %q, %t", got, multi, tc.want, tc.wantMulti)
			}
		})
	}
}

// TestGetReportsEveryUnreachableCluster: with several contexts, a cluster
// that cannot be read is an error line naming its context on stderr, the
// others still print, and the exit code is 1 without a second message.
func TestGetReportsEveryUnreachableCluster(t *testing.T) {
	path := kubeconfigWith(t, "prod", "staging")
	o := &GetOptions{Kind: "stacks", Kube: KubeFlags{Kubeconfig: path, Context: "prod,staging,missing"}}
	var out, errOut strings.Builder
	err := o.Run(t.Context(), Streams{Out: &out, ErrOut: &errOut})
	if code, printed := ExitCode(err); code != ExitError || printed {
		t.Errorf("exit code %d (message %t), want %d and no second message: %v", code, printed, ExitError, err)
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("stderr has %d lines, want one per context:\n%s", len(lines), errOut.String())
	}
	for i, ctx := range []string{"prod", "staging", "missing"} {
		if !strings.HasPrefix(lines[i], "Error: context "+ctx+": ") {
			t.Errorf("line %d = %q, want it to name context %s", i, lines[i], ctx)
		}
	}
	if out.Len() != 0 {
		t.Errorf("a fleet that could not be read printed a table:\n%s", out.String())
	}
}
