package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/internal/dashboard"
)

// DefaultDashboardAddress is where `flotilla dashboard` listens by default.
const DefaultDashboardAddress = "127.0.0.1:9400"

// DashboardOptions configure `flotilla dashboard`.
type DashboardOptions struct {
	// Kubeconfig is a path; empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Contexts is a comma-separated list of contexts; empty is every
	// context of the kubeconfig.
	Contexts string
	// Address is host:port to listen on.
	Address string
	// Repo is a local clone of the fleet repository, "" for none.
	Repo string
	// AllowActions offers reconcile, suspend and resume on the page.
	AllowActions bool
	// Log receives the server's errors; the zero value discards them.
	Log logr.Logger
	// started, when set, is called with the URL once the page is served
	// (tests).
	started func(url string)
}

// NewDashboardCommand returns `flotilla dashboard`.
func NewDashboardCommand(s Streams) *cobra.Command {
	o := &DashboardOptions{Address: DefaultDashboardAddress}
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve a web page of the whole fleet: every cluster, every Stack, live",
		Long: "Watch every context of the kubeconfig (or those of --context) with your own credentials\n" +
			"and RBAC, and serve one page on localhost: the matrix of clusters by Stacks, each Stack's\n" +
			"inventory with its health, drift, canaries and image updates, and, with --repo, the plan\n" +
			"of a branch. Read-only unless --allow-actions. Serves until interrupted.",
		Example: "  flotilla dashboard                             # every context of the kubeconfig\n" +
			"  flotilla dashboard --context prod-us,prod-eu   # those two clusters\n" +
			"  flotilla dashboard --repo ~/src/fleet --allow-actions",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "path to a kubeconfig; default $KUBECONFIG, then ~/.kube/config")
	f.StringVar(&o.Contexts, "context", o.Contexts, "comma-separated kubeconfig contexts to show (default: every context)")
	f.StringVar(&o.Address, "address", o.Address, "host:port to listen on; the page answers only to this address, localhost and 127.0.0.1")
	f.StringVar(&o.Repo, "repo", o.Repo, "a local clone of the fleet repository (bare or not): behind counts, commit messages and the plan page")
	f.BoolVar(&o.AllowActions, "allow-actions", o.AllowActions, "offer reconcile, suspend and resume on the page (each confirmed; your RBAC decides)")
	return cmd
}

// Run serves the dashboard until ctx ends.
func (o *DashboardOptions) Run(ctx context.Context, s Streams) error {
	opts, err := o.serverOptions()
	if err != nil {
		return err
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	ctrllog.SetLogger(opts.Log) // the watchers' informers log through controller-runtime
	srv, err := dashboard.New(opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url, done, err := dashboard.Listen(ctx, srv, o.Address)
	if err != nil {
		return err
	}
	running := make(chan error, 1)
	go func() { running <- srv.Run(ctx) }()
	clusters := "clusters"
	if len(opts.Clusters) == 1 {
		clusters = "cluster"
	}
	fmt.Fprintf(s.Out, "Dashboard: %s (%d %s; Ctrl-C stops it)\n", url, len(opts.Clusters), clusters)
	if o.started != nil {
		o.started(url)
	}
	err = <-done
	cancel()
	return errors.Join(err, <-running)
}

// serverOptions checks the flags and loads a config per context.
func (o *DashboardOptions) serverOptions() (dashboard.Options, error) {
	if _, _, err := net.SplitHostPort(o.Address); err != nil {
		return dashboard.Options{}, fmt.Errorf("--address %q: give host:port, e.g. %s", o.Address, DefaultDashboardAddress)
	}
	if o.Repo != "" {
		if fi, err := os.Stat(o.Repo); err != nil || !fi.IsDir() {
			return dashboard.Options{}, fmt.Errorf("--repo %s: not a directory: give a clone of the fleet repository", o.Repo)
		}
	}
	names := splitContexts(o.Contexts)
	if len(names) == 0 {
		all, err := allContexts(o.Kubeconfig)
		if err != nil {
			return dashboard.Options{}, err
		}
		names = all
	}
	opts := dashboard.Options{Repo: o.Repo, AllowActions: o.AllowActions, Log: o.Log}
	for _, name := range names {
		kube := KubeFlags{Kubeconfig: o.Kubeconfig, Context: name}
		cfg, err := kube.RESTConfig()
		if err != nil {
			return dashboard.Options{}, fmt.Errorf("context %s: %w", name, err)
		}
		opts.Clusters = append(opts.Clusters, dashboard.ClusterConfig{Name: name, Config: cfg})
	}
	return opts, nil
}
