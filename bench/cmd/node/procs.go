package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// cgroupRoot is the kubelet's cgroupRoot on the test node (internal/localnode):
// the processes of every Pod run in cgroups under it.
const cgroupRoot = "/flotilla-node"

// podProcesses is what the processes that run the node's Pods hold: the
// containerd shims and what runs in the Pods' cgroups (the sandboxes'
// pause and the containers).
type podProcesses struct {
	harness.Memory
	// Processes is how many processes were read.
	Processes int
	// Pods is how many Pods they belong to: the pod<uid> cgroups seen.
	Pods int
}

// perPod divides the memory between the Pods.
func (p podProcesses) perPod() harness.Memory {
	n := uint64(max(p.Pods, 1))
	return harness.Memory{RSS: p.RSS / n, PSS: p.PSS / n}
}

// podProcess reports whether a process, by its /proc/<pid>/cgroup text and
// its command line, runs one of the node's Pods: it is in a cgroup under
// root, or it is a containerd shim serving the containerd at socket. uid is
// the Pod's UID when the cgroup names it.
func podProcess(cgroup string, cmdline []string, root, socket string) (ok bool, uid string) {
	for _, path := range cgroupPaths(cgroup) {
		if path == root || strings.HasPrefix(path, root+"/") {
			return true, podUID(path)
		}
	}
	return isShimOf(cmdline, socket), ""
}

// cgroupPaths returns the paths of a /proc/<pid>/cgroup text, one per
// hierarchy ("12:memory:/flotilla-node/kubepods/pod<uid>/<id>").
func cgroupPaths(text string) []string {
	var paths []string
	for line := range strings.SplitSeq(text, "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 {
			paths = append(paths, parts[2])
		}
	}
	return paths
}

// podUID returns the UID in the pod<uid> directory of a kubelet cgroup
// path (cgroupfs driver), or "".
func podUID(path string) string {
	for dir := range strings.SplitSeq(path, "/") {
		if uid, ok := strings.CutPrefix(dir, "pod"); ok && uid != "" {
			return uid
		}
	}
	return ""
}

// isShimOf reports whether cmdline is a containerd shim whose -address is
// socket.
func isShimOf(cmdline []string, socket string) bool {
	if len(cmdline) == 0 || !strings.HasPrefix(filepath.Base(cmdline[0]), "containerd-shim") {
		return false
	}
	for i, arg := range cmdline {
		for _, flag := range []string{"-address", "--address"} {
			if arg == flag+"="+socket || (arg == flag && i+1 < len(cmdline) && cmdline[i+1] == socket) {
				return true
			}
		}
	}
	return false
}

// splitCmdline splits a /proc/<pid>/cmdline text at its NUL bytes.
func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// flagValue returns the value of a --name or -name flag of cmdline, given
// as "--name value" or "--name=value".
func flagValue(cmdline []string, name string) string {
	for i, arg := range cmdline {
		for _, f := range []string{"-" + name, "--" + name} {
			if v, ok := strings.CutPrefix(arg, f+"="); ok {
				return v
			}
			if arg == f && i+1 < len(cmdline) {
				return cmdline[i+1]
			}
		}
	}
	return ""
}

// grpcAddress returns the address of the [grpc] table of a containerd
// config.toml text: the socket its shims are given.
func grpcAddress(config string) string {
	table := ""
	sc := bufio.NewScanner(strings.NewReader(config))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			table = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && table == "[grpc]" && strings.TrimSpace(k) == "address" {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// containerdSocket reads the socket of the node's containerd, process pid,
// from the config file of its command line.
func containerdSocket(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", err
	}
	config := flagValue(splitCmdline(b), "config")
	if config == "" {
		return "", fmt.Errorf("containerd (pid %d) has no --config", pid)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	socket := grpcAddress(string(text))
	if socket == "" {
		return "", fmt.Errorf("%s has no [grpc] address", config)
	}
	return socket, nil
}

// readPodProcesses reads the memory of every process running the node's
// Pods (see podProcess), leaving out the pids of skip: the components.
// Processes that end while they are read are left out.
func readPodProcesses(socket string, skip map[int]bool) (podProcesses, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return podProcesses{}, err
	}
	var out podProcesses
	pods := map[string]bool{}
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || skip[pid] {
			continue
		}
		cgroup, err1 := os.ReadFile(filepath.Join(dir, "cgroup"))
		cmdline, err2 := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err1 != nil || err2 != nil {
			continue // ended
		}
		ok, uid := podProcess(string(cgroup), splitCmdline(cmdline), cgroupRoot, socket)
		if !ok {
			continue
		}
		m, err := harness.ProcMemory(pid)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // ended
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", dir, err)
		}
		out.Memory = out.Plus(m)
		out.Processes++
		if uid != "" {
			pods[uid] = true
		}
	}
	out.Pods = len(pods)
	return out, nil
}
