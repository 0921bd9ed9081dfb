package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/flotilla-io/flotilla/internal/localfleet"
)

// BuildFlotilla compiles ./cmd/flotilla of the module at root into out,
// so the benchmarks measure the agent as users run it: its own process.
func BuildFlotilla(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/flotilla")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/flotilla: %w\n%s", err, b)
	}
	return nil
}

// Agent is one `flotilla agent` process out of cluster (see
// internal/localfleet), its metrics endpoint on a loopback port of its own.
type Agent struct{ *localfleet.Agent }

// StartAgent runs binary's agent against kubeconfig with extra flags,
// writing its log to dir/agent.log and its data to dir/data. It serves
// metrics and allows file:// URLs: some benchmarks serve their
// repositories from them.
func StartAgent(binary, kubeconfig, dir string, extra ...string) (*Agent, error) {
	a, err := localfleet.StartAgent(localfleet.AgentOptions{
		Binary: binary, Kubeconfig: kubeconfig,
		DataDir: filepath.Join(dir, "data"), LogFile: filepath.Join(dir, "agent.log"),
		Metrics: true, AllowFileURLs: true, Args: extra,
	})
	if err != nil {
		return nil, err
	}
	return &Agent{a}, nil
}

// Usage is the agent's CPU time so far and its peak resident memory.
type Usage struct {
	CPU     time.Duration
	PeakRSS uint64 // bytes, VmHWM
}

// Usage reads the agent's /proc/<pid>/stat and status.
func (a *Agent) Usage() (Usage, error) { return ProcUsage(a.PID()) }

// ProcUsage reads CPU time and peak RSS of process pid from /proc.
func ProcUsage(pid int) (Usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, err
	}
	u, s, err := ParseProcStat(stat)
	if err != nil {
		return Usage{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	hwm, err := ParseVmHWM(string(status))
	if err != nil {
		return Usage{}, err
	}
	return Usage{CPU: time.Duration(u+s) * ClockTick, PeakRSS: hwm}, nil
}

// ParseVmHWM returns the peak resident set size, in bytes, of a
// /proc/<pid>/status text.
func ParseVmHWM(status string) (uint64, error) {
	v := procField(status, "VmHWM")
	if v == "" {
		return 0, fmt.Errorf("proc status: no VmHWM line")
	}
	var kb uint64
	if _, err := fmt.Sscanf(v, "%d kB", &kb); err != nil {
		return 0, fmt.Errorf("proc status VmHWM %q: %w", v, err)
	}
	return kb * 1024, nil
}

// Gather scrapes the agent's metrics endpoint; it implements
// prometheus.Gatherer, so Reconciles and Requests read the agent as they
// read an in-process registry.
func (a *Agent) Gather() ([]*dto.MetricFamily, error) { return Scrape(a.MetricsURL()) }

// Scrape reads a Prometheus text endpoint.
func Scrape(url string) ([]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	out := make([]*dto.MetricFamily, 0, len(families))
	for _, mf := range families {
		out = append(out, mf)
	}
	return out, nil
}

// RESTRequests sums client-go's rest_client_requests_total by HTTP method
// (GET, PATCH, ...): every request the process sent to the API server.
func RESTRequests(families []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != "rest_client_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					out[strings.ToUpper(l.GetValue())] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
