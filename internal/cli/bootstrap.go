package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
)

// BootstrapOptions configure `flotilla bootstrap`.
type BootstrapOptions struct {
	// Kube names the cluster; only Kubeconfig and Context are used.
	Kube KubeFlags
	// Bootstrap says what to install and which repository to follow.
	Bootstrap bootstrap.Options
	// PrivateKeyFile and KnownHostsFile are read into Bootstrap.
	PrivateKeyFile, KnownHostsFile string
}

// NewBootstrapCommand returns `flotilla bootstrap`.
func NewBootstrapCommand(s Streams) *cobra.Command {
	o := &BootstrapOptions{Bootstrap: bootstrap.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install the agent and make the cluster follow its directory of a fleet repository",
		Long: "Install the agent, store the Git credentials in a Secret, and create the GitRepository\n" +
			"and the root Stack of --path. When --path does not exist on the branch, write the\n" +
			"agent's manifests and the sync objects there, commit and push them, so the agent\n" +
			"manages itself from Git. A second run with the same arguments changes nothing.\n" +
			"See docs/install.md.",
		Example: "  flotilla bootstrap --url https://git.example.com/platform/fleet.git --branch main \\\n" +
			"    --path clusters/prod-us-east --username fleet-bot --password \"$TOKEN\"\n" +
			"  flotilla bootstrap --url ssh://git@git.example.com/platform/fleet.git \\\n" +
			"    --path clusters/staging --private-key-file ~/.ssh/fleet --known-hosts-file known_hosts",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), s) },
	}
	f := cmd.Flags()
	b := &o.Bootstrap
	f.StringVar(&o.Kube.Kubeconfig, "kubeconfig", "", "path to a kubeconfig; default $KUBECONFIG, then ~/.kube/config")
	f.StringVar(&o.Kube.Context, "context", "", "kubeconfig context to use instead of the current one")
	bindInstallFlags(f, &b.Install)
	f.StringVar(&b.URL, "url", "", "URL of the fleet repository (https://, http:// or ssh://)")
	f.StringVar(&b.Branch, "branch", b.Branch, "branch to follow (created when missing)")
	f.StringVar(&b.Path, "path", "", "directory of this cluster in the repository, e.g. clusters/prod")
	f.StringVar(&b.Username, "username", "", "user name for HTTP(S)")
	f.StringVar(&b.Password, "password", "", "password or token for HTTP(S); $FLOTILLA_GIT_PASSWORD when unset")
	f.StringVar(&o.PrivateKeyFile, "private-key-file", "", "SSH private key for ssh:// URLs")
	f.StringVar(&o.KnownHostsFile, "known-hosts-file", "", "known_hosts with the server's key; default: scan it and print its fingerprint")
	f.StringVar(&b.SourceName, "source-name", b.SourceName, "name of the GitRepository")
	f.StringVar(&b.StackName, "stack-name", b.StackName, "name of the root Stack")
	f.StringVar(&b.SecretName, "secret-name", b.SecretName, "name of the credentials Secret")
	f.DurationVar(&b.Interval, "interval", b.Interval, "time between two fetches of the repository")
	f.BoolVar(&b.Wait, "wait", b.Wait, "wait until the root Stack is Ready")
	f.DurationVar(&b.Timeout, "timeout", b.Timeout, "how long to wait for the root Stack")
	_ = cmd.MarkFlagRequired("url")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}

// Run bootstraps the cluster and prints what changed.
func (o *BootstrapOptions) Run(ctx context.Context, s Streams) error {
	if err := o.readFiles(); err != nil {
		return err
	}
	if o.Bootstrap.Password == "" {
		o.Bootstrap.Password = os.Getenv("FLOTILLA_GIT_PASSWORD")
	}
	cfg, err := o.Kube.RESTConfig()
	if err != nil {
		return err
	}
	p := progressFor(s.Out)
	res, err := bootstrap.Run(ctx, cfg, o.Bootstrap, func(msg string) { p.Update("%s", msg) })
	p.Stop()
	printChanges(s.Out, res.Changes)
	if err != nil {
		return err
	}
	o.printSummary(s, res)
	return nil
}

func (o *BootstrapOptions) readFiles() error {
	for _, f := range []struct {
		path, flag string
		into       *[]byte
	}{{o.PrivateKeyFile, "--private-key-file", &o.Bootstrap.PrivateKey}, {o.KnownHostsFile, "--known-hosts-file", &o.Bootstrap.KnownHosts}} {
		if f.path == "" {
			continue
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
		*f.into = data
	}
	return nil
}

func (o *BootstrapOptions) printSummary(s Streams, res bootstrap.Result) {
	b := o.Bootstrap
	pal := paletteFor(s.Out)
	if res.HostKeyFingerprint != "" {
		fmt.Fprintf(s.Out, "ssh host key trusted on first use: %s\n", res.HostKeyFingerprint)
	}
	switch {
	case res.Committed:
		fmt.Fprintf(s.Out, "committed %s to %s and pushed (%s)\n", b.Path, b.Branch, short(res.Commit))
	default:
		fmt.Fprintf(s.Out, "%s already exists on %s: no commit\n", b.Path, b.Branch)
	}
	changed := len(res.Changes.Changes) - res.Changes.Count(apply.Unchanged)
	fmt.Fprintf(s.Out, "%s %d objects changed, %d unchanged\n", pal.Green("✔"), changed, res.Changes.Count(apply.Unchanged))
	if res.Revision != "" {
		fmt.Fprintf(s.Out, "%s Stack %s/%s is Ready at %s\n", pal.Green("✔"), b.Install.Namespace, b.StackName, res.Revision)
	}
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
