package harness

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where a benchmark's figures were measured: the header
// of every section of BENCHMARKS.md that runs against a control plane.
type Machine struct {
	CPUs     int
	CPUModel string
	MemBytes uint64
	Kernel   string
	Go       string
	// KubeVersion is kube-apiserver's version, filled in by the caller
	// once a control plane runs.
	KubeVersion string
	// Commit is `git describe --always --dirty` of the module.
	Commit string
	// Date is the UTC day of the measurement, 2006-01-02.
	Date string
}

// DescribeMachine reads this machine from /proc and the runtime, and the
// commit of the repository at moduleRoot ("unknown" without git).
func DescribeMachine(moduleRoot string) Machine {
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	m := Machine{
		CPUs:     runtime.NumCPU(),
		CPUModel: CPUModel(read("/proc/cpuinfo")),
		MemBytes: MemTotalBytes(read("/proc/meminfo")),
		Kernel:   strings.TrimSpace(read("/proc/sys/kernel/osrelease")),
		Go:       runtime.Version(),
		Date:     time.Now().UTC().Format("2006-01-02"),
		Commit:   "unknown",
	}
	if out, err := exec.Command("git", "-C", moduleRoot, "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// String renders the machine as the sections' headers do: "2 CPUs
// (model), 24 GiB RAM, Linux 6.1, go1.26, kube-apiserver v1.37.2"; a
// benchmark without a control plane leaves KubeVersion empty and out.
func (m Machine) String() string {
	s := fmt.Sprintf("%d CPUs (%s), %.0f GiB RAM, Linux %s, %s", m.CPUs, m.CPUModel, float64(m.MemBytes)/(1<<30), m.Kernel, m.Go)
	if m.KubeVersion != "" {
		s += ", kube-apiserver " + m.KubeVersion
	}
	return s
}

// FormatSeconds renders seconds with three significant digits in a unit
// that suits them.
func FormatSeconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s < 0.001:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 0.01:
		return fmt.Sprintf("%.2f ms", s*1e3)
	case s < 0.1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1e3)
	default:
		return fmt.Sprintf("%.2f s", s)
	}
}

// Plural renders "1 run", "3 runs".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
