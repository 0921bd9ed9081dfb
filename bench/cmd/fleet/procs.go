package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
		comm, ppid, err := harness.ParseStatComm(stat)
		if err != nil || ppid != parent {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(statPath)))
		p, err := readProc(pid, stat)
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

// readProc reads the CPU time, VmRSS and Pss of process pid, its stat
// text already read.
func readProc(pid int, stat []byte) (proc, error) {
	u, s, err := harness.ParseProcStat(stat)
	if err != nil {
		return proc{}, err
	}
	m, err := harness.ProcMemory(pid)
	return proc{share: share{rss: m.RSS, pss: m.PSS, cpu: time.Duration(u+s) * harness.ClockTick}}, err
}

// fleetUsage reads the memory and CPU time of this process's children.
func fleetUsage(agentComm string) (usage, error) {
	procs, err := children(os.Getpid())
	if err != nil {
		return usage{}, fmt.Errorf("reading the fleet's processes from /proc: %w", err)
	}
	return sumUsage(procs, agentComm), nil
}
