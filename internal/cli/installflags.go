package cli

import (
	"github.com/spf13/pflag"

	"github.com/flotilla-io/flotilla/internal/install"
)

// bindInstallFlags registers the flags that shape the installed agent.
func bindInstallFlags(f *pflag.FlagSet, o *install.Options) {
	f.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "namespace of the agent")
	f.StringVar(&o.Image, "image", o.Image, "image of the agent")
	f.Int32Var(&o.Replicas, "replicas", o.Replicas, "replicas of the agent (leader election keeps one active)")
	f.BoolVar(&o.ClusterAdmin, "cluster-admin", o.ClusterAdmin, "also bind the agent to cluster-admin, for Stacks without a serviceAccountName that apply any kind")
}
