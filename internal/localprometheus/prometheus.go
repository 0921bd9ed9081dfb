package localprometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BinaryEnv names the environment variable that overrides the prometheus
// binary; the default is prometheus on PATH.
const BinaryEnv = "FLOTILLA_PROMETHEUS"

// ScrapeInterval is how often the server scrapes and evaluates.
const ScrapeInterval = time.Second

// Option configures Start.
type Option func(*options)

type options struct {
	binary       string
	host         string
	scrapes      []ScrapeConfig
	readyTimeout time.Duration
}

// WithBinary runs the prometheus binary at path.
func WithBinary(path string) Option { return func(o *options) { o.binary = path } }

// WithHost listens on host (an IP address of this machine) instead of
// 127.0.0.1, for clients that are not on loopback (Pods of a real node).
func WithHost(host string) Option { return func(o *options) { o.host = host } }

// WithScrape adds scrape configs.
func WithScrape(configs ...ScrapeConfig) Option {
	return func(o *options) { o.scrapes = append(o.scrapes, configs...) }
}

// WithReadyTimeout bounds the wait for /-/ready (default one minute).
func WithReadyTimeout(d time.Duration) Option { return func(o *options) { o.readyTimeout = d } }

// Server is a running Prometheus.
type Server struct {
	url       string
	dir       string
	cmd       *exec.Cmd
	logs      *logBuffer
	done      chan struct{}
	discovery []*podDiscovery

	stopOnce sync.Once
	stopErr  error
}

// Start runs Prometheus with the given scrape configs and returns once it
// is ready. The caller must call Stop.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	o := options{host: "127.0.0.1", readyTimeout: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := binary(o.binary)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "flotilla-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("prometheus: temporary directory: %w", err)
	}
	s, err := start(ctx, bin, dir, o)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// binary finds the prometheus command.
func binary(path string) (string, error) {
	if path == "" {
		path = os.Getenv(BinaryEnv)
	}
	if path == "" {
		path = "prometheus"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("prometheus: %w (install Debian's prometheus with hack/testenv.sh, or set $%s)", err, BinaryEnv)
	}
	return p, nil
}

// start validates the scrape configs, starts the pod discoveries they ask
// for and runs the server.
func start(ctx context.Context, bin, dir string, o options) (*Server, error) {
	if err := validate(o.scrapes); err != nil {
		return nil, err
	}
	discovery, urls, err := startDiscovery(o)
	if err != nil {
		return nil, err
	}
	s, err := runConfigured(ctx, bin, dir, o, urls)
	if err != nil {
		closeAll(discovery)
		return nil, err
	}
	s.discovery = discovery
	return s, nil
}

// startDiscovery starts the pod discovery of each scrape config with a
// kubeconfig and returns the URL of each by job name.
func startDiscovery(o options) ([]*podDiscovery, map[string]string, error) {
	var all []*podDiscovery
	urls := map[string]string{}
	for _, sc := range o.scrapes {
		if sc.Kubeconfig == "" {
			continue
		}
		d, err := startPodDiscovery(o.host, sc.Kubeconfig, sc.Namespaces)
		if err != nil {
			closeAll(all)
			return nil, nil, err
		}
		all = append(all, d)
		urls[sc.JobName] = d.url
	}
	return all, urls, nil
}

func closeAll(ds []*podDiscovery) {
	for _, d := range ds {
		_ = d.close()
	}
}

// runConfigured writes the configuration and runs the server, on another
// free port when the one picked was taken meanwhile.
func runConfigured(ctx context.Context, bin, dir string, o options, discovery map[string]string) (*Server, error) {
	cfg, err := config(o.scrapes, discovery)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("prometheus: writing %s: %w", cfgPath, err)
	}
	var errs []error
	for range 3 {
		s, err := run(ctx, bin, dir, cfgPath, o)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// run starts one process on a free port and waits until it is ready.
func run(ctx context.Context, bin, dir, cfgPath string, o options) (*Server, error) {
	port, err := freePort(o.host)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(o.host, strconv.Itoa(port))
	s := &Server{url: "http://" + addr, dir: dir, logs: &logBuffer{}, done: make(chan struct{})}
	// Not exec.CommandContext: the server outlives the ctx of Start.
	s.cmd = exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-lifecycle",
		"--log.level=info",
	)
	s.cmd.Dir = dir
	// The server dies with the test binary or demo that started it, also
	// when that one is killed before it could call Stop.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("prometheus: starting %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, o.readyTimeout); err != nil {
		s.kill()
		return nil, fmt.Errorf("prometheus on %s: %w; its log:\n%s", addr, err, s.logs.tail(4096))
	}
	return s, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("prometheus: finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls /-/ready until it answers 200, the process exits, ctx
// is done or timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.ready(ctx) {
			return nil
		}
		select {
		case <-s.done:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (s *Server) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/-/ready", nil)
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

// URL is the server's base URL, like http://127.0.0.1:40123.
func (s *Server) URL() string { return s.url }

// Logs returns the server's output so far (also after Stop).
func (s *Server) Logs() string { return s.logs.String() }

// Stop kills the server, waits for it to exit and removes its directory.
// It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.kill()
		closeAll(s.discovery)
		s.stopErr = os.RemoveAll(s.dir)
	})
	return s.stopErr
}

// kill ends the process and waits for it.
func (s *Server) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

// logBuffer is a concurrency-safe buffer for the process's output, capped
// at its last megabyte.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxLog = 1 << 20

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() > maxLog {
		b.buf.Next(b.buf.Len() - maxLog)
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// marshal is json.Marshal: JSON is YAML, and Prometheus reads it.
var marshal = json.Marshal
