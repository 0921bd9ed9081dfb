package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/flotilla-io/flotilla/internal/agent"
)

// AgentOptions configure `flotilla agent`.
type AgentOptions struct {
	agent.Options
	LogLevel  string
	LogFormat string
}

// NewAgentCommand returns `flotilla agent`.
func NewAgentCommand(s Streams) *cobra.Command {
	o := &AgentOptions{Options: agent.DefaultOptions(), LogLevel: "info", LogFormat: "json"}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the controllers (in the cluster, or out of it with --kubeconfig)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.Run(cmd, s) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "path to a kubeconfig; default $KUBECONFIG, then in-cluster")
	f.StringVar(&o.DataDir, "data-dir", o.DataDir, "directory for artifacts and Git caches")
	f.StringVar(&o.MetricsAddr, "metrics-addr", o.MetricsAddr, `address of the Prometheus metrics endpoint ("0" disables)`)
	f.StringVar(&o.HealthAddr, "health-addr", o.HealthAddr, `address of /healthz and /readyz ("0" disables)`)
	f.StringVar(&o.PprofAddr, "pprof-addr", "", `address of Go's profiles at /debug/pprof/ (off by default; "0" also disables); keep it on loopback`)
	f.BoolVar(&o.LeaderElect, "leader-elect", false, "elect one active replica (required for more than one)")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "namespace of the leader Lease when out of cluster")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "objects of one kind reconciled at once")
	f.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "requests per second to the API server")
	f.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "burst of requests to the API server")
	f.DurationVar(&o.DriftSafetyInterval, "drift-safety-interval", o.DriftSafetyInterval, "longest time a Stack with nothing to do goes without a full re-apply")
	f.StringVar(&o.WebhookAddr, "webhook-addr", o.WebhookAddr, `address of the Receivers' webhook server ("0" disables)`)
	f.StringVar(&o.WebhookCertFile, "webhook-tls-cert", "", "PEM certificate of the webhook server; with --webhook-tls-key it serves TLS")
	f.StringVar(&o.WebhookKeyFile, "webhook-tls-key", "", "PEM private key of the webhook server")
	f.BoolVar(&o.AllowFileURLs, "allow-file-urls", false, "accept GitRepositories with file:// URLs, which read the agent's own file system (single-tenant setups and tests)")
	f.Int64Var(&o.MaxFetchSize, "max-fetch-size", o.MaxFetchSize, "bytes one Git fetch may bring (the packfile); a larger fetch fails naming the GitRepository, and its last artifact stays in use")
	f.BoolVar(&o.Lockdown.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "refuse references across namespaces (a Stack's sourceRef and dependsOn, an Alert's event sources): each tenant stays in its namespace")
	f.StringVar(&o.Lockdown.DefaultServiceAccount, "default-service-account", "", "ServiceAccount (in the Stack's namespace) that Stacks without serviceAccountName apply as; empty: the agent's own identity")
	f.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info or error")
	f.StringVar(&o.LogFormat, "log-format", o.LogFormat, "json or console")
	return cmd
}

// Run starts the agent and blocks until it is interrupted.
func (o *AgentOptions) Run(cmd *cobra.Command, s Streams) error {
	if o.Concurrency < 1 {
		return fmt.Errorf("--concurrency must be at least 1, got %d", o.Concurrency)
	}
	if o.MaxFetchSize < 1 {
		return fmt.Errorf("--max-fetch-size must be at least 1 byte, got %d", o.MaxFetchSize)
	}
	var level zapcore.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info or error", o.LogLevel)
	}
	if o.LogFormat != "json" && o.LogFormat != "console" {
		return fmt.Errorf("--log-format %q: use json or console", o.LogFormat)
	}
	log := zap.New(zap.WriteTo(s.ErrOut), zap.Level(level), zap.UseDevMode(o.LogFormat == "console"))
	ctrl.SetLogger(log)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return agent.Run(ctx, o.Options, log)
}
