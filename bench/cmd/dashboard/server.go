package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/dashboard"
)

// serverStopGrace is how long the dashboard gets to stop after SIGTERM.
const serverStopGrace = 10 * time.Second

// pollInterval is how often the benchmark reads /api/fleet, and the
// browser's record, while it waits.
const pollInterval = 20 * time.Millisecond

// server is one `flotilla dashboard` process.
type server struct {
	cmd     *exec.Cmd
	log     *os.File
	done    chan error
	started time.Time
	// base is the URL the server printed, without a path: http://127.0.0.1:PORT.
	base string
	http *http.Client
}

// dashboardArgs are the flags the benchmark starts the dashboard with:
// every context of kubeconfig, a free loopback port, read-only.
func dashboardArgs(kubeconfig string) []string {
	return []string{"dashboard", "--kubeconfig", kubeconfig, "--address", "127.0.0.1:0"}
}

// urlPattern finds the URL the dashboard prints once it listens.
var urlPattern = regexp.MustCompile(`https?://(127\.0\.0\.1|localhost):[0-9]+[^\s"']*`)

// startServer runs binary's dashboard over kubeconfig, logging to
// dir/dashboard.log, and waits until it prints its URL.
func startServer(ctx context.Context, binary, kubeconfig, dir string, timeout time.Duration) (*server, error) {
	log, err := os.Create(filepath.Join(dir, "dashboard.log"))
	if err != nil {
		return nil, err
	}
	s := &server{log: log, done: make(chan error, 1), http: &http.Client{Timeout: timeout}}
	s.cmd = exec.Command(binary, dashboardArgs(kubeconfig)...)
	s.cmd.Stderr = log
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		log.Close()
		return nil, err
	}
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s dashboard: %w", binary, err)
	}
	urls := make(chan string, 1)
	go s.copyOutput(out, urls)
	go func() { s.done <- s.cmd.Wait() }()
	select {
	case u := <-urls:
		p, err := url.Parse(u)
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("the dashboard printed %q: %w", u, err)
		}
		s.base = p.Scheme + "://" + p.Host
		return s, nil
	case err := <-s.done:
		s.done <- err
		return nil, fmt.Errorf("the dashboard exited before it printed its URL: %v (log: %s)", err, log.Name())
	case <-time.After(timeout):
		s.stop()
		return nil, fmt.Errorf("the dashboard printed no URL within %s (log: %s)", timeout, log.Name())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// copyOutput copies the server's output into its log and sends the first
// URL it prints.
func (s *server) copyOutput(out io.Reader, urls chan<- string) {
	sent := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Fprintln(s.log, sc.Text())
		if u := urlPattern.FindString(sc.Text()); u != "" && !sent {
			urls <- u
			sent = true
		}
	}
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// usage is the server's CPU time so far and its peak resident memory.
func (s *server) usage() (harness.Usage, error) { return harness.ProcUsage(s.pid()) }

// stop asks the server to stop, and kills it after serverStopGrace.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(serverStopGrace):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

// fleet reads GET /api/fleet, and the size of its body.
func (s *server) fleet(ctx context.Context) (dashboard.Fleet, int, error) {
	var f dashboard.Fleet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/fleet", nil)
	if err != nil {
		return f, 0, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return f, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return f, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return f, 0, fmt.Errorf("GET /api/fleet: %s: %.200s", resp.Status, body)
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return f, 0, fmt.Errorf("GET /api/fleet: %w", err)
	}
	return f, len(body), nil
}

// waitComplete reads /api/fleet until it shows every cluster reachable
// with all its Stacks, and returns the time since the process started.
func (s *server) waitComplete(ctx context.Context, clusters, stacks int, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "no answer"
	for {
		f, _, err := s.fleet(ctx)
		if err == nil {
			if last = incomplete(f, clusters, stacks); last == "" {
				return time.Since(s.started), nil
			}
		} else if !errors.Is(err, context.DeadlineExceeded) {
			last = err.Error()
		}
		if err := s.exited(); err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("/api/fleet did not show %d clusters of %d Stacks within %s: %s (log: %s)", clusters, stacks, timeout, last, s.log.Name())
		case <-time.After(pollInterval):
		}
	}
}

// incomplete says what f lacks of clusters reachable clusters with stacks
// Stacks each, "" when nothing.
func incomplete(f dashboard.Fleet, clusters, stacks int) string {
	if len(f.Clusters) != clusters {
		return fmt.Sprintf("%d clusters, want %d", len(f.Clusters), clusters)
	}
	for _, c := range f.Clusters {
		switch {
		case !c.Reachable:
			return fmt.Sprintf("%s not reachable: %s", c.Name, c.Error)
		case len(c.Stacks) != stacks:
			return fmt.Sprintf("%s shows %d Stacks, want %d", c.Name, len(c.Stacks), stacks)
		}
	}
	return ""
}

// exited returns an error once the server has stopped on its own.
func (s *server) exited() error {
	select {
	case err := <-s.done:
		s.done <- err
		return fmt.Errorf("the dashboard stopped: %v (log: %s)", err, s.log.Name())
	default:
		return nil
	}
}
