package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/internal/demo"
)

// DemoOptions configure `flotilla demo`.
type DemoOptions struct {
	demo.Options
}

// NewDemoCommand returns `flotilla demo`.
func NewDemoCommand(s Streams) *cobra.Command {
	o := &DemoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a fleet in a box: three local clusters converging from one Git repository",
		Long: "Start three local clusters (staging, prod-us-east, prod-eu-west), serve examples/fleet\n" +
			"from a local Git server, bootstrap an agent per cluster and watch the fleet converge;\n" +
			"then edit a managed object by hand and watch it reverted, and push a commit that rolls\n" +
			"through the three clusters.\n\n" +
			"Run as root from a checkout, staging is a real single-node cluster (kubelet, containerd,\n" +
			"kube-proxy, CoreDNS and a local registry): the demo builds the agent's image and the\n" +
			"example app from the checkout, the agent runs there as a Pod and the app as real Pods\n" +
			"answering through their Service. The prod clusters are a kube-apiserver and etcd each,\n" +
			"with no node: their agents run beside them and their Deployments get no Pods.\n" +
			"Ctrl-C stops everything the demo started; --keep leaves the fleet running after the\n" +
			"script so you can try the CLI on it.\n\n" +
			"While it runs, the fleet dashboard (docs/dashboard.md) serves the three clusters live on\n" +
			"--dashboard-address, actions allowed; the demo prints its URL.",
		Example: "  make demo                 # from a checkout: prepares the binaries, then runs this\n" +
			"  flotilla demo --keep      # keep the fleet running; Ctrl-C stops it\n" +
			"  flotilla demo --keep --clusters prod-us-east,prod-eu-west --dashboard-address off",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), s) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Assets, "assets", "", "directory with kube-apiserver and etcd (default: $KUBEBUILDER_ASSETS, the cache, or build them)")
	f.StringVar(&o.Dir, "dir", "", "directory for kubeconfigs, agent data and logs (default: a temporary one, removed at the end)")
	f.BoolVar(&o.Keep, "keep", false, "keep the fleet running after the script until Ctrl-C")
	f.DurationVar(&o.Wait, "timeout", 3*time.Minute, "longest wait for each step")
	f.StringSliceVar(&o.Clusters, "clusters", nil, "clusters to start, each a clusters/<name> of examples/fleet (default staging,prod-us-east,prod-eu-west)")
	f.StringVar(&o.DashboardAddress, "dashboard-address", DefaultDashboardAddress, `where to serve the fleet dashboard while the demo runs (a free port when taken); "off" serves none`)
	return cmd
}

// Run runs the demo, narrating on s.Out.
func (o *DemoOptions) Run(ctx context.Context, s Streams) error {
	// The demo's clients are controller-runtime's; their logs would only
	// interleave with the narration (the agents log to their own files).
	ctrllog.SetLogger(logr.Discard())
	opts := o.Options
	if opts.AgentBinary == "" {
		bin, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the flotilla binary for the agents: %w", err)
		}
		opts.AgentBinary = bin
	}
	p := progressFor(s.Out)
	defer p.Stop()
	opts.Out = p
	opts.Report = progressReporter{p}
	if opts.ShowFleet == nil {
		opts.ShowFleet = showFleet
	}
	if opts.ShowDiff == nil {
		opts.ShowDiff = showDiff
	}
	return demo.Run(ctx, opts)
}

// progressReporter shows the demo's progress on a Progress line.
type progressReporter struct{ p *Progress }

func (r progressReporter) Step(format string, args ...any)    { r.p.Println(format, args...) }
func (r progressReporter) Waiting(format string, args ...any) { r.p.Update(format, args...) }

// showFleet prints every Stack of every context of the kubeconfig, as
// `flotilla get stacks --all-contexts` does.
func showFleet(ctx context.Context, kubeconfig string, w io.Writer) error {
	o := &GetOptions{Kube: KubeFlags{Kubeconfig: kubeconfig, Namespace: DefaultNamespace}, AllContexts: true, Kind: "stacks", Output: OutputTable}
	return o.Run(ctx, Streams{Out: w, ErrOut: w})
}

// showDiff runs `flotilla diff stack` for the demo. Changes are what it
// shows, so the exit code that says so is not an error here.
func showDiff(ctx context.Context, kubeconfig, kubeContext, stack, checkout string, w io.Writer) error {
	o := &DiffOptions{Kube: KubeFlags{Kubeconfig: kubeconfig, Context: kubeContext, Namespace: DefaultNamespace}, Stack: stack, Path: checkout}
	err := o.Run(ctx, Streams{Out: w, ErrOut: w})
	if code, _ := ExitCode(err); code == ExitDiffChanges {
		return nil
	}
	return err
}
