package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completionTimeout bounds the API call behind one press of Tab: a shell
// must not hang on an unreachable cluster.
const completionTimeout = 5 * time.Second

// completeNames returns the ValidArgsFunction of the verbs that take a kind
// and a name (get, reconcile, suspend, resume) or a name only (tree, drift):
// it completes the kind, then the names of the Stacks or GitRepositories in
// the namespace of the command's -n flag (every namespace with -A). kind
// fixes the kind, e.g. "stack"; "" means the first argument names it.
func completeNames(kind string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		word := kind
		if word == "" {
			if len(args) == 0 {
				return withPrefix(kindArgs(), toComplete), cobra.ShellCompDirectiveNoFileComp
			}
			word, args = args[0], args[1:]
		}
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		k, err := kindFor(word)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := objectNames(cmd, k)
		if err != nil {
			cobra.CompDebugln("listing names: "+err.Error(), true)
			return nil, cobra.ShellCompDirectiveError
		}
		return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// objectNames lists the names of kind in the scope of cmd's cluster flags.
func objectNames(cmd *cobra.Command, k objectKind) ([]string, error) {
	kube := kubeFlagsOf(cmd)
	c, err := kube.Client()
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	ns := kube.NamespaceOrDefault()
	if kube.AllNamespaces {
		ns = ""
	}
	names, err := namesIn(ctx, c, k.GVK(), ns)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// kubeFlagsOf reads the cluster flags of KubeFlags.Bind from cmd, whichever
// Options struct they were bound to. Of a list of contexts (get --context
// a,b) it takes the first.
func kubeFlagsOf(cmd *cobra.Command) KubeFlags {
	fs := cmd.Flags()
	var k KubeFlags
	k.Kubeconfig, _ = fs.GetString("kubeconfig")
	k.Context, _ = fs.GetString("context")
	k.Context, _, _ = strings.Cut(k.Context, ",")
	k.Namespace, _ = fs.GetString("namespace")
	k.AllNamespaces, _ = fs.GetBool("all-namespaces")
	return k
}

// withPrefix keeps the candidates that start with prefix.
func withPrefix(candidates []string, prefix string) []string {
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// withNameCompletion completes cmd's argument with the names of kind
// ("stack" or "source") unless cmd completes its arguments already. It is
// for verbs whose only argument is a name, such as drift and tree.
func withNameCompletion(cmd *cobra.Command, kind string) *cobra.Command {
	if cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = completeNames(kind)
	}
	return cmd
}

// withStackNameCompletion completes Stack names for the `stack NAME`
// subcommand of cmd (build, diff, tree).
func withStackNameCompletion(cmd *cobra.Command) *cobra.Command {
	for _, sub := range cmd.Commands() {
		if sub.Name() == "stack" {
			withNameCompletion(sub, "stack")
		}
	}
	return cmd
}
