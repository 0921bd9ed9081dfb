package localfleet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// DefaultStopGrace is how long an agent gets to stop after SIGTERM before
// it is killed.
const DefaultStopGrace = 10 * time.Second

// AgentOptions say how StartAgent runs a `flotilla agent` process.
type AgentOptions struct {
	// Binary is the flotilla binary; required.
	Binary string
	// Kubeconfig reaches the cluster the agent serves; required.
	Kubeconfig string
	// DataDir is the agent's --data-dir (its artifacts); required.
	DataDir string
	// LogFile receives the agent's stdout and stderr (JSON logs); required.
	LogFile string
	// Metrics serves the agent's metrics on a free loopback port (see
	// Agent.MetricsURL); without it, none.
	Metrics bool
	// Webhooks serves Receivers on a free loopback port (see
	// Agent.WebhookAddr); without it, none.
	Webhooks bool
	// AllowFileURLs lets GitRepositories use file:// URLs.
	AllowFileURLs bool
	// Args are more flags, after those above: of a flag given twice, the
	// last wins.
	Args []string
	// StopGrace is how long Stop waits after SIGTERM; 0 is
	// DefaultStopGrace.
	StopGrace time.Duration
}

// Agent is one running `flotilla agent` process.
type Agent struct {
	cmd         *exec.Cmd
	log         *os.File
	done        chan struct{} // closed once the process has exited
	waitErr     error         // the process's exit, once done is closed
	metricsURL  string
	webhookAddr string
	grace       time.Duration
}

// StartAgent starts the agent process o describes; it does not wait for it
// to serve (see WaitMetrics).
func StartAgent(o AgentOptions) (*Agent, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	a := &Agent{done: make(chan struct{}), grace: o.StopGrace}
	if a.grace == 0 {
		a.grace = DefaultStopGrace
	}
	args, err := a.args(o)
	if err != nil {
		return nil, err
	}
	if a.log, err = os.Create(o.LogFile); err != nil {
		return nil, fmt.Errorf("the agent's log: %w", err)
	}
	a.cmd = exec.Command(o.Binary, args...)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		a.log.Close()
		return nil, fmt.Errorf("starting %s agent: %w", o.Binary, err)
	}
	go func() {
		a.waitErr = a.cmd.Wait()
		close(a.done)
	}()
	return a, nil
}

// validate refuses options without a required field: an agent without a
// kubeconfig would serve whatever cluster its environment points at.
func (o AgentOptions) validate() error {
	for _, f := range []struct{ name, value string }{
		{"Binary", o.Binary}, {"Kubeconfig", o.Kubeconfig}, {"DataDir", o.DataDir}, {"LogFile", o.LogFile},
	} {
		if f.value == "" {
			return fmt.Errorf("starting an agent: AgentOptions.%s is required", f.name)
		}
	}
	return nil
}

// args are the agent's command line, with free ports for the servers o
// asks for.
func (a *Agent) args(o AgentOptions) ([]string, error) {
	metricsAddr, webhookAddr := "0", "0"
	if o.Metrics {
		addr, err := FreeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		metricsAddr, a.metricsURL = addr, "http://"+addr+"/metrics"
	}
	if o.Webhooks {
		addr, err := FreeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		webhookAddr, a.webhookAddr = addr, addr
	}
	args := []string{"agent", "--kubeconfig", o.Kubeconfig, "--data-dir", o.DataDir,
		"--metrics-addr", metricsAddr, "--health-addr", "0", "--webhook-addr", webhookAddr, "--log-format", "json"}
	if o.AllowFileURLs {
		args = append(args, "--allow-file-urls")
	}
	return append(args, o.Args...), nil
}

// PID is the agent's process id.
func (a *Agent) PID() int { return a.cmd.Process.Pid }

// LogPath is the file the agent logs to.
func (a *Agent) LogPath() string { return a.log.Name() }

// MetricsURL is the agent's metrics endpoint; "" without Metrics.
func (a *Agent) MetricsURL() string { return a.metricsURL }

// WebhookAddr is where the agent serves Receivers (host:port); "" without
// Webhooks.
func (a *Agent) WebhookAddr() string { return a.webhookAddr }

// Stop asks the agent to stop, and kills it after the stop grace.
func (a *Agent) Stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(a.grace):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
	a.log.Close()
}

// Exited returns an error once the agent has stopped, on its own or by
// Stop, and nil while it runs.
func (a *Agent) Exited() error {
	select {
	case <-a.done:
		if a.waitErr == nil {
			return fmt.Errorf("the agent exited (log: %s)", a.LogPath())
		}
		return fmt.Errorf("the agent stopped: %w (log: %s)", a.waitErr, a.LogPath())
	default:
		return nil
	}
}

// WaitMetrics waits until the agent serves its metrics, or exits, or ctx
// ends.
func (a *Agent) WaitMetrics(ctx context.Context) error {
	if a.metricsURL == "" {
		return fmt.Errorf("the agent serves no metrics: start it with AgentOptions.Metrics")
	}
	for {
		if a.servesMetrics(ctx) {
			return nil
		}
		if err := a.Exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the agent serves no metrics at %s: %w", a.metricsURL, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// servesMetrics reports whether the metrics endpoint answers 200.
func (a *Agent) servesMetrics(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.metricsURL, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// FreeLoopbackAddr returns a loopback address with a port free right now,
// for a process that must be told its port before it starts.
func FreeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
