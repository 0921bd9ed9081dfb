package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// share is what the fleet's processes of one kind hold and used.
type share struct {
	rss uint64        // bytes, VmRSS summed: shared pages count in each process
	pss uint64        // bytes, Pss summed: shared pages split between processes
	cpu time.Duration // utime + stime so far
}

func (s share) plus(o share) share { return share{s.rss + o.rss, s.pss + o.pss, s.cpu + o.cpu} }

// usage is the fleet's processes by kind.
type usage struct {
	etcd, apiservers, agents share
}

// total is every process of the fleet.
func (u usage) total() share { return u.etcd.plus(u.apiservers).plus(u.agents) }

// controlPlaneCPU is the CPU time of etcd and the kube-apiservers.
func (u usage) controlPlaneCPU() time.Duration { return u.etcd.cpu + u.apiservers.cpu }

// perCluster divides b by the clusters (the shared etcd included).
func perCluster(b uint64, clusters int) uint64 { return b / uint64(max(clusters, 1)) }

// proc is one child process of the benchmark: its command name
// (/proc/<pid>/comm, at most 15 bytes) and what it holds and used.
type proc struct {
	comm string
	share
}

// sumUsage adds procs up by what they are: etcd, kube-apiserver, or the
// agent binary (agentComm). Anything else (git http-backend serving a
// fetch, say) is left out.
func sumUsage(procs []proc, agentComm string) usage {
	var u usage
	for _, p := range procs {
		switch p.comm {
		case "etcd":
			u.etcd = u.etcd.plus(p.share)
		case "kube-apiserver":
			u.apiservers = u.apiservers.plus(p.share)
		case agentComm:
			u.agents = u.agents.plus(p.share)
		}
	}
	return u
}

// parseStat returns the command name and parent pid of a /proc/<pid>/stat
// text: "pid (comm) state ppid ...", comm possibly holding spaces and ')'.
func parseStat(stat []byte) (comm string, ppid int, err error) {
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

// parseKB returns the value in bytes of the "name:   123 kB" line of a
// /proc/<pid>/status or /proc/meminfo text; a line that is missing (a
// zombie has no VmRSS) reads as 0.
func parseKB(text, name string) (uint64, error) {
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

// children returns every child process of parent with its memory and
// CPU time. Processes that end while they are read are skipped.
func children(parent int) ([]proc, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, statPath := range stats {
		stat, err := os.ReadFile(statPath)
		if err != nil {
			continue // ended
		}
		comm, ppid, err := parseStat(stat)
		if err != nil || ppid != parent {
			continue
		}
		p, err := readProc(filepath.Dir(statPath), stat)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // ended
		}
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", filepath.Dir(statPath), comm, err)
		}
		p.comm = comm
		out = append(out, p)
	}
	return out, nil
}

// readProc reads the CPU time, VmRSS and Pss of the process at dir
// (/proc/<pid>), its stat text already read.
func readProc(dir string, stat []byte) (proc, error) {
	var p proc
	u, s, err := harness.ParseProcStat(stat)
	if err != nil {
		return p, err
	}
	p.cpu = time.Duration(u+s) * harness.ClockTick
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return p, err
	}
	if p.rss, err = parseKB(string(status), "VmRSS"); err != nil {
		return p, err
	}
	rollup, err := os.ReadFile(filepath.Join(dir, "smaps_rollup"))
	if err != nil {
		return p, err
	}
	p.pss, err = parseKB(string(rollup), "Pss")
	return p, err
}

// fleetUsage reads the memory and CPU time of this process's children.
func fleetUsage(agentComm string) (usage, error) {
	procs, err := children(os.Getpid())
	if err != nil {
		return usage{}, fmt.Errorf("reading the fleet's processes from /proc: %w", err)
	}
	return sumUsage(procs, agentComm), nil
}

// memAvailable is the kernel's estimate of the memory left for new work.
func memAvailable() (uint64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parseKB(string(b), "MemAvailable")
}
