package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/install"
)

// InstallOptions configure `flotilla install`.
type InstallOptions struct {
	// Kube names the cluster; its namespace fields are not used (the
	// agent's namespace is Install.Namespace).
	Kube KubeFlags
	// Install says what to install.
	Install install.Options
	// Export prints the manifests instead of applying them.
	Export bool
	// Wait waits until the agent's Deployment is Available.
	Wait bool
	// Timeout bounds the whole command.
	Timeout time.Duration
}

// NewInstallCommand returns `flotilla install`.
func NewInstallCommand(s Streams) *cobra.Command {
	o := &InstallOptions{Install: install.DefaultOptions(), Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the CRDs and the agent in a cluster, or print their manifests",
		Long: "Install Flotilla's CRDs, the agent's ServiceAccount and least-privilege RBAC, and the\n" +
			"agent Deployment, with server-side apply. A second run changes nothing. With\n" +
			"--cluster-admin the agent may apply any kind anywhere (needed for Stacks without a\n" +
			"serviceAccountName that manage cluster-wide objects). See docs/install.md.",
		Example: "  flotilla install\n" +
			"  flotilla install --replicas 2 --cluster-admin\n" +
			"  flotilla install --export > flotilla.yaml",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), s) },
	}
	f := cmd.Flags()
	o.bindKube(f)
	bindInstallFlags(f, &o.Install)
	f.BoolVar(&o.Export, "export", false, "print the manifests as YAML and touch no cluster")
	f.BoolVar(&o.Wait, "wait", false, "wait until the agent's Deployment is Available")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long")
	return cmd
}

func (o *InstallOptions) bindKube(f *pflag.FlagSet) {
	f.StringVar(&o.Kube.Kubeconfig, "kubeconfig", "", "path to a kubeconfig; default $KUBECONFIG, then ~/.kube/config")
	f.StringVar(&o.Kube.Context, "context", "", "kubeconfig context to use instead of the current one")
}

// Run prints or applies the manifests.
func (o *InstallOptions) Run(ctx context.Context, s Streams) error {
	objs, err := install.Objects(o.Install)
	if err != nil {
		return err
	}
	if o.Export {
		return install.Write(s.Out, objs)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	if err := installObjects(ctx, c, objs, s.Out); err != nil {
		return err
	}
	if o.Wait {
		return waitAgent(ctx, c, o.Install.Namespace, o.Timeout, s.Out)
	}
	return nil
}

// installObjects applies objs with a progress line and prints each change.
func installObjects(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, w io.Writer) error {
	p := progressFor(w)
	cs, err := install.Apply(ctx, c, objs, func(msg string) { p.Update("%s", msg) })
	p.Stop()
	printChanges(w, cs)
	return err
}

func waitAgent(ctx context.Context, c client.Client, namespace string, timeout time.Duration, w io.Writer) error {
	p := progressFor(w)
	p.Update("waiting for Deployment %s/%s to be Available", namespace, install.AgentName)
	err := install.WaitAgent(ctx, c, namespace, timeout)
	p.Stop()
	if err == nil {
		fmt.Fprintf(w, "Deployment/%s/%s is Available\n", namespace, install.AgentName)
	}
	return err
}
