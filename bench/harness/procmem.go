package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Memory is what one process, or a group of them, holds.
type Memory struct {
	// RSS is VmRSS in bytes: shared pages count in every process that maps
	// them.
	RSS uint64
	// PSS is Pss in bytes: shared pages split between the processes that
	// map them, so the Pss of processes adds up to what they take.
	PSS uint64
}

// Plus returns the sum of m and o.
func (m Memory) Plus(o Memory) Memory { return Memory{RSS: m.RSS + o.RSS, PSS: m.PSS + o.PSS} }

// ProcMemory reads VmRSS from /proc/<pid>/status and Pss from
// /proc/<pid>/smaps_rollup (root, or the process's owner, may read it).
func ProcMemory(pid int) (Memory, error) {
	return procDirMemory(fmt.Sprintf("/proc/%d", pid))
}

func procDirMemory(dir string) (Memory, error) {
	var m Memory
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return m, err
	}
	if m.RSS, err = ParseKB(string(status), "VmRSS"); err != nil {
		return m, err
	}
	rollup, err := os.ReadFile(filepath.Join(dir, "smaps_rollup"))
	if err != nil {
		return m, err
	}
	m.PSS, err = ParseKB(string(rollup), "Pss")
	return m, err
}

// ParseKB returns the value in bytes of the "name:   123 kB" line of a
// /proc/<pid>/status, smaps_rollup or /proc/meminfo text; a line that is
// missing (a zombie has no VmRSS) reads as 0.
func ParseKB(text, name string) (uint64, error) {
	for line := range strings.SplitSeq(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		var kb uint64
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
			return 0, fmt.Errorf("%s %q: %w", name, rest, err)
		}
		return kb * 1024, nil
	}
	return 0, nil
}

// ParseStatComm returns the command name and parent pid of a
// /proc/<pid>/stat text: "pid (comm) state ppid ...", comm possibly holding
// spaces and ')'.
func ParseStatComm(stat []byte) (comm string, ppid int, err error) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("proc stat %q: no (comm)", stat)
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 2 {
		return "", 0, fmt.Errorf("proc stat %q: no ppid", stat)
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return "", 0, fmt.Errorf("proc stat ppid %q: %w", fields[1], err)
	}
	return string(stat[open+1 : end]), ppid, nil
}

// MemAvailable is the kernel's estimate of the memory left for new work,
// in bytes.
func MemAvailable() (uint64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return ParseKB(string(b), "MemAvailable")
}

// LoadAverage is the 1-minute load average, or "unknown".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// FormatBytes renders a size in MiB, or GiB from 10 GiB.
func FormatBytes(b float64) string {
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", b/(1<<20))
}

// ServerVersion asks the kube-apiserver that cfg reaches for its version,
// for Machine.KubeVersion.
func ServerVersion(cfg *rest.Config) (string, error) {
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", err
	}
	v, err := d.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("asking kube-apiserver its version: %w", err)
	}
	return v.GitVersion, nil
}

// MemoryGuard returns a check, run before the process what of the i-th of
// n clusters starts (name(i) names the cluster), that refuses the start
// when less than floor bytes of memory are available: a fleet that does not
// fit fails with the number of clusters it reached instead of swapping or
// meeting the OOM killer.
func MemoryGuard(floor uint64, n int, what string, name func(int) string) func(int) error {
	return func(i int) error {
		avail, err := MemAvailable()
		if err != nil || avail >= floor {
			return err
		}
		return fmt.Errorf("not starting the %s of %s: MemAvailable is %d MiB, under -min-available %d MiB, with %d of %d clusters started: the fleet does not fit in memory",
			what, name(i), avail>>20, floor>>20, i, n)
	}
}
