package gatewayapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/internal/testground"
)

// ControllerName is the GatewayClass controllerName Traefik's
// kubernetesgateway provider implements.
const ControllerName = "traefik.io/gateway-controller"

// Entrypoint names of the Traefik that Start runs.
const (
	// WebEntrypoint serves the Gateways' HTTP listeners.
	WebEntrypoint = "web"
	// MetricsEntrypoint serves /metrics (Prometheus) and /ping.
	MetricsEntrypoint = "metrics"
)

// Options shape a Traefik.
type Options struct {
	// Kubeconfig is the kubeconfig file of the API server Traefik watches
	// (required). Traefik reads it from $KUBECONFIG.
	Kubeconfig string
	// Binary is Traefik's executable; empty means traefik in the test
	// ground's directory (hack/testenv.sh).
	Binary string
	// Host is the loopback address the entrypoints listen on (default
	// 127.0.0.1); it is also the address Traefik writes in the Gateways'
	// status.
	Host string
	// LogDir holds traefik.log; empty means a new temporary directory,
	// left in place so that the log outlives the process.
	LogDir string
	// StartTimeout bounds the wait for Traefik to answer its ping (default
	// 30s).
	StartTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Kubeconfig == "" {
		return o, errors.New("gatewayapi.Options.Kubeconfig is required: Traefik needs the API server to watch")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.Binary == "" {
		dir, err := testground.AssetsDir()
		if err != nil {
			return o, err
		}
		o.Binary = filepath.Join(dir, "traefik")
	}
	if _, err := os.Stat(o.Binary); err != nil {
		return o, fmt.Errorf("traefik not found: run `make testenv` (hack/testenv.sh builds it): %w", err)
	}
	return o, nil
}

// Traefik is a running Traefik process.
type Traefik struct {
	// Host is the address its entrypoints listen on.
	Host string
	// WebPort is the port of entrypoint web: the port a Gateway listener
	// must have for Traefik to serve it.
	WebPort int
	// MetricsPort is the port of entrypoint metrics.
	MetricsPort int
	// LogFile is Traefik's log (stdout and stderr).
	LogFile string

	cmd  *exec.Cmd
	done chan error
}

// Start runs Traefik with the kubernetesgateway provider watching the API
// server of o.Kubeconfig, and waits until it answers its ping.
func Start(ctx context.Context, o Options) (*Traefik, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.LogDir == "" {
		if o.LogDir, err = os.MkdirTemp("", "flotilla-traefik-"); err != nil {
			return nil, err
		}
	}
	t := &Traefik{Host: o.Host, LogFile: filepath.Join(o.LogDir, "traefik.log")}
	if t.WebPort, err = freePort(o.Host); err != nil {
		return nil, err
	}
	if t.MetricsPort, err = freePort(o.Host); err != nil {
		return nil, err
	}
	if err := t.start(o); err != nil {
		return nil, err
	}
	if err := t.waitReady(ctx, o.StartTimeout); err != nil {
		return nil, errors.Join(err, t.Stop())
	}
	return t, nil
}

// Args are Traefik's command-line flags for entrypoints on host:web and
// host:metrics.
func Args(host string, web, metrics int) []string {
	addr := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	return []string{
		"--global.checkNewVersion=false",
		"--global.sendAnonymousUsage=false",
		"--log.level=INFO",
		"--entryPoints." + WebEntrypoint + ".address=" + addr(web),
		"--entryPoints." + MetricsEntrypoint + ".address=" + addr(metrics),
		"--ping=true",
		"--ping.entryPoint=" + MetricsEntrypoint,
		"--metrics.prometheus=true",
		"--metrics.prometheus.entryPoint=" + MetricsEntrypoint,
		"--metrics.prometheus.addServicesLabels=true",
		"--providers.kubernetesGateway=true",
		"--providers.kubernetesGateway.statusAddress.ip=" + host,
	}
}

func (t *Traefik) start(o Options) error {
	log, err := os.Create(t.LogFile)
	if err != nil {
		return err
	}
	defer log.Close()
	t.cmd = exec.Command(o.Binary, Args(o.Host, t.WebPort, t.MetricsPort)...)
	t.cmd.Env = append(os.Environ(), "KUBECONFIG="+o.Kubeconfig)
	t.cmd.Stdout, t.cmd.Stderr = log, log
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	t.done = make(chan error, 1)
	go func() { t.done <- t.cmd.Wait() }()
	return nil
}

// waitReady polls /ping until Traefik answers 200, it exits, or the
// timeout passes.
func (t *Traefik) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := fmt.Sprintf("http://%s/ping", net.JoinHostPort(t.Host, strconv.Itoa(t.MetricsPort)))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ping(ctx, url) {
			return nil
		}
		select {
		case err := <-t.done:
			t.done <- err
			return fmt.Errorf("traefik exited before it was ready (%v); see %s", err, t.LogFile)
		case <-ctx.Done():
			return fmt.Errorf("traefik did not answer %s: %w; see %s", url, ctx.Err(), t.LogFile)
		case <-tick.C:
		}
	}
}

func ping(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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

// URL is the base URL of entrypoint web.
func (t *Traefik) URL() string {
	return "http://" + net.JoinHostPort(t.Host, strconv.Itoa(t.WebPort))
}

// MetricsURL is the URL of Traefik's Prometheus metrics.
func (t *Traefik) MetricsURL() string {
	return "http://" + net.JoinHostPort(t.Host, strconv.Itoa(t.MetricsPort)) + "/metrics"
}

// Stop terminates Traefik and waits for it (10s, then it is killed).
func (t *Traefik) Stop() error {
	if t == nil || t.cmd == nil || t.cmd.Process == nil {
		return nil
	}
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.done:
	case <-time.After(10 * time.Second):
		_ = t.cmd.Process.Kill()
		<-t.done
	}
	t.cmd = nil
	return nil
}

// freePort returns a TCP port free on host now.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
