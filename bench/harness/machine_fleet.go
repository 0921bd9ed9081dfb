package harness

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where a benchmark measured, for the header of its
// section: the date, the commit, the CPUs, the memory, the kernel, Go and,
// once a benchmark has asked a cluster, kube-apiserver's version.
type Machine struct {
	CPUs        int
	CPUModel    string
	MemBytes    uint64
	Kernel      string
	GoVersion   string
	KubeVersion string // set by the benchmark; empty leaves it out
	Commit      string // `git describe --always --dirty` of the module
	Date        string // UTC, 2006-01-02
}

// DescribeMachine reads the machine from /proc and the commit of the Git
// repository at moduleRoot ("unknown" when git cannot say).
func DescribeMachine(moduleRoot string) Machine {
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	m := Machine{
		CPUs:      runtime.NumCPU(),
		CPUModel:  CPUModel(read("/proc/cpuinfo")),
		MemBytes:  MemTotalBytes(read("/proc/meminfo")),
		Kernel:    strings.TrimSpace(read("/proc/sys/kernel/osrelease")),
		GoVersion: runtime.Version(),
		Date:      time.Now().UTC().Format("2006-01-02"),
		Commit:    "unknown",
	}
	if out, err := exec.Command("git", "-C", moduleRoot, "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// String renders the machine as the sections' headers do: "2 CPUs
// (model), 24 GiB RAM, Linux 6.1, go1.26, kube-apiserver v1.37.2".
func (m Machine) String() string {
	s := fmt.Sprintf("%d CPUs (%s), %.0f GiB RAM, Linux %s, %s", m.CPUs, m.CPUModel, float64(m.MemBytes)/(1<<30), m.Kernel, m.GoVersion)
	if m.KubeVersion != "" {
		s += ", kube-apiserver " + m.KubeVersion
	}
	return s
}
