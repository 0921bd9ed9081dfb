package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memory is the resident memory of the fleet's processes, in bytes.
type memory struct {
	etcd, apiservers, agents uint64
}

// total is the fleet's resident memory.
func (m memory) total() uint64 { return m.etcd + m.apiservers + m.agents }

// perCluster is the fleet's memory divided by its clusters, the shared
// etcd included.
func (m memory) perCluster(clusters int) uint64 { return m.total() / uint64(max(clusters, 1)) }

// proc is what the fleet's memory is summed from: one process's command
// name (/proc/<pid>/comm, at most 15 bytes) and resident set size.
type proc struct {
	comm string
	rss  uint64
}

// sumMemory adds the resident sets of procs by what they are: etcd,
// kube-apiserver, or the agent binary (agentComm). Anything else (git
// http-backend serving a fetch, say) is left out.
func sumMemory(procs []proc, agentComm string) memory {
	var m memory
	for _, p := range procs {
		switch p.comm {
		case "etcd":
			m.etcd += p.rss
		case "kube-apiserver":
			m.apiservers += p.rss
		case agentComm:
			m.agents += p.rss
		}
	}
	return m
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

// children returns the command name and VmRSS of every child process of
// parent. Processes that end while they are read are skipped.
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
		status, err := os.ReadFile(filepath.Join(filepath.Dir(statPath), "status"))
		if err != nil {
			continue
		}
		rss, err := parseKB(string(status), "VmRSS")
		if err != nil {
			return nil, err
		}
		out = append(out, proc{comm: comm, rss: rss})
	}
	return out, nil
}

// fleetMemory sums the resident memory of this process's children.
func fleetMemory(agentComm string) (memory, error) {
	procs, err := children(os.Getpid())
	if err != nil {
		return memory{}, fmt.Errorf("reading the fleet's memory from /proc: %w", err)
	}
	return sumMemory(procs, agentComm), nil
}

// memAvailable is the kernel's estimate of the memory left for new work.
func memAvailable() (uint64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parseKB(string(b), "MemAvailable")
}
