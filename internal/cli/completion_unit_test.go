package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// completionCommand is a verb with the cluster flags pointing at a
// kubeconfig whose cluster cannot be reached.
func completionCommand(t *testing.T) *cobra.Command {
	t.Helper()
	cmd := &cobra.Command{Use: "reconcile"}
	(&KubeFlags{}).Bind(cmd.Flags())
	if err := cmd.Flags().Parse([]string{"--kubeconfig", kubeconfigWith(t, "unreachable")}); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestCompleteNamesWithoutACluster: what completion decides without
// listing names, and a cluster that cannot be read.
func TestCompleteNamesWithoutACluster(t *testing.T) {
	cases := []struct {
		name      string
		kind      string
		args      []string
		prefix    string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{"the kinds by prefix", "", nil, "image", []string{"imagerepository", "imagerepositories", "imagepolicy", "imagepolicies", "imageupdate", "imageupdates"},
			cobra.ShellCompDirectiveNoFileComp},
		{"no kind has the prefix", "", nil, "pod", nil, cobra.ShellCompDirectiveNoFileComp},
		{"nothing after the name", "", []string{"stack", "apps"}, "", nil, cobra.ShellCompDirectiveNoFileComp},
		{"nothing after the name of a fixed kind", "stack", []string{"apps"}, "", nil, cobra.ShellCompDirectiveNoFileComp},
		{"an unknown kind", "", []string{"pods"}, "", nil, cobra.ShellCompDirectiveNoFileComp},
		{"a cluster that cannot be read is an error", "", []string{"stack"}, "", nil, cobra.ShellCompDirectiveError},
		{"so for a fixed kind", "stack", nil, "a", nil, cobra.ShellCompDirectiveError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, directive := completeNames(tc.kind)(completionCommand(t), tc.args, tc.prefix)
			if diff := cmp.Diff(tc.want, got); diff != "" || directive != tc.directive {
				t.Errorf("completeNames = %q, %v; want %q, %v", got, directive, tc.want, tc.directive)
			}
		})
	}
}

func TestWithNameCompletionKeepsTheVerbsOwn(t *testing.T) {
	own := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"own"}, cobra.ShellCompDirectiveDefault
	}
	cmd := withNameCompletion(&cobra.Command{Use: "x", ValidArgsFunction: own}, "stack")
	if got, _ := cmd.ValidArgsFunction(cmd, nil, ""); !cmp.Equal(got, []cobra.Completion{"own"}) {
		t.Errorf("the verb's own completion was replaced: %q", got)
	}
	bare := withNameCompletion(&cobra.Command{Use: "y"}, "stack")
	if bare.ValidArgsFunction == nil {
		t.Error("a verb without completion got none")
	}
}

func TestWithStackNameCompletionOnlyOnTheStackSubcommand(t *testing.T) {
	parent := &cobra.Command{Use: "diff"}
	stack, other := &cobra.Command{Use: "stack NAME"}, &cobra.Command{Use: "overlay"}
	parent.AddCommand(stack, other)
	withStackNameCompletion(parent)
	if stack.ValidArgsFunction == nil || other.ValidArgsFunction != nil || parent.ValidArgsFunction != nil {
		t.Errorf("completion on stack %t, overlay %t, diff %t; want only on stack",
			stack.ValidArgsFunction != nil, other.ValidArgsFunction != nil, parent.ValidArgsFunction != nil)
	}
}

func TestDriftReadsTheStacksInScope(t *testing.T) {
	var objs []client.Object
	for _, ns := range []string{"team-a", "team-b"} {
		for _, st := range shopStacks(ns) {
			objs = append(objs, st.DeepCopy())
		}
	}
	cases := []struct {
		name    string
		o       DriftOptions
		want    []string
		wantErr string
	}{
		{"the Stacks of -n", DriftOptions{Kube: KubeFlags{Namespace: "team-a"}}, []string{"team-a/apps", "team-a/infra", "team-a/quiet"}, ""},
		{"every namespace", DriftOptions{Kube: KubeFlags{AllNamespaces: true}},
			[]string{"team-a/apps", "team-a/infra", "team-a/quiet", "team-b/apps", "team-b/infra", "team-b/quiet"}, ""},
		{"one Stack", DriftOptions{Kube: KubeFlags{Namespace: "team-b"}, Stack: "infra"}, []string{"team-b/infra"}, ""},
		{"a mistyped Stack", DriftOptions{Kube: KubeFlags{Namespace: "team-b"}, Stack: "qiuet"}, nil, "Stack team-b/qiuet not found; did you mean quiet?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stacks, err := tc.o.stacks(t.Context(), newFakeClient(t, objs...))
			if errString(err) != tc.wantErr {
				t.Fatalf("stacks = %v, want %q", err, tc.wantErr)
			}
			var got []string
			for _, st := range stacks {
				got = append(got, st.Namespace+"/"+st.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stacks (-want +got):\n%s", diff)
			}
		})
	}
	one, err := (&DriftOptions{Kube: KubeFlags{Namespace: "team-a"}, Stack: "infra"}).stacks(t.Context(), newFakeClient(t, objs...))
	if err != nil || len(one) != 1 || len(one[0].Status.Drift) != 2 {
		t.Errorf("stacks(infra) = %+v, %v; want the Stack with its 2 drift records", one, err)
	}
}
