package localnode

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StateDir holds the lock that makes real nodes on one machine take turns,
// and the record of what the running (or crashed) node changed on the host.
var StateDir = "/run/flotilla-node"

// hostDirs are directories outside the node's own directory that kubelet,
// containerd and the CNI plugins write to whatever they are told. Teardown
// removes those that did not exist before.
var hostDirs = []string{
	"/var/lib/kubelet", // kubelet hard-codes /var/lib/kubelet/device-plugins
	"/var/lib/cni",     // containerd 1.6 keeps CNI results here
	"/var/log/containers",
	"/var/log/pods",
	"/run/containerd", // shim sockets (/run/containerd/s)
}

// sysctls the node's components may change; teardown puts them back.
var sysctls = []string{
	"net.ipv4.ip_forward",
	"net.ipv4.conf.all.route_localnet",
	"net.bridge.bridge-nf-call-iptables",
	"net.bridge.bridge-nf-call-ip6tables",
	"net.netfilter.nf_conntrack_max",
	"vm.overcommit_memory",
	"vm.panic_on_oom",
	"kernel.panic",
	"kernel.panic_on_oops",
	"kernel.keys.root_maxkeys",
	"kernel.keys.root_maxbytes",
}

// iptablesTables are listed before the node starts, so that the snapshot
// names every chain that existed.
var iptablesTables = []string{"filter", "nat", "mangle", "raw"}

// hostState is what a node changed on the host, written to
// StateDir/state.json before each change so that Cleanup can undo it after
// a crash.
type hostState struct {
	// Dir is the node's own directory (configuration, data, logs).
	Dir string `json:"dir"`
	// KeepDir leaves Dir in place on teardown (logs for a failed run).
	KeepDir bool `json:"keepDir,omitempty"`
	// Processes maps a pid to the executable it ran.
	Processes map[int]string `json:"processes,omitempty"`
	// Links are network links the node created.
	Links []string `json:"links,omitempty"`
	// CgroupRoot is kubelet's cgroupRoot, under every controller.
	CgroupRoot string `json:"cgroupRoot,omitempty"`
	// Sysctls holds the values before the node started.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// NewDirs are host directories that did not exist before.
	NewDirs []string `json:"newDirs,omitempty"`
	// IPTables holds iptables-save and ip6tables-save output from before:
	// the KUBE-* and CNI-* chains it declares are not the node's, and stay.
	IPTables map[string]string `json:"iptables,omitempty"`
}

func statePath() string { return filepath.Join(StateDir, "state.json") }

// lock takes the machine-wide node lock, waiting for another node to stop
// (tests in several packages take turns). The returned file releases it
// when closed.
func lock(ctx context.Context) (*os.File, error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(StateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another real node on this machine to stop: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *hostState) save() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, statePath())
}

func loadState() (*hostState, error) {
	data, err := os.ReadFile(statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &hostState{}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", statePath(), err)
	}
	return s, nil
}

// record snapshots the host before the node changes it.
func (s *hostState) record() error {
	s.Sysctls = map[string]string{}
	for _, k := range sysctls {
		if v, err := os.ReadFile(sysctlPath(k)); err == nil {
			s.Sysctls[k] = strings.TrimSpace(string(v))
		}
	}
	for _, d := range hostDirs {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			s.NewDirs = append(s.NewDirs, d)
		}
	}
	s.IPTables = map[string]string{}
	for _, bin := range []string{"iptables", "ip6tables"} {
		for _, t := range iptablesTables {
			// Listing makes the table exist, so the snapshot holds it and
			// a restore empties what the node added to it.
			_ = exec.Command(bin, "-w", "-t", t, "-S").Run()
		}
		out, err := exec.Command(bin + "-save").Output()
		if err != nil {
			return &StepError{Step: bin + "-save", Err: err}
		}
		s.IPTables[bin] = string(out)
	}
	return s.save()
}

func sysctlPath(key string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
}

// WithLock runs fn while holding the machine-wide node lock: no node runs
// meanwhile, and any that ran before has been stopped (or crashed, and its
// record is there). Tests use it to check the host between nodes.
func WithLock(ctx context.Context, fn func()) error {
	f, err := lock(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	fn()
	return nil
}

// Cleanup undoes what a node left on the host, from its record: after a
// crash, or when a test binary was killed. It is what Stop does after
// stopping the processes, and is safe to run at any time: with no record it
// does nothing. It takes the machine-wide lock.
func Cleanup(ctx context.Context) error {
	f, err := lock(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	return cleanupLocked()
}

func cleanupLocked() error {
	s, err := loadState()
	if err != nil || s == nil {
		return err
	}
	return s.undo()
}

// undo reverses everything in the record, in order, and removes it. Each
// step runs even when an earlier one failed.
func (s *hostState) undo() error {
	var errs []error
	s.killProcesses()
	killShims(s.Dir)
	if s.CgroupRoot != "" {
		killCgroup(s.CgroupRoot)
	}
	if s.CgroupRoot != "" {
		errs = append(errs, removeCgroup(s.CgroupRoot))
	}
	errs = append(errs, s.restoreIPTables())
	for _, l := range s.Links {
		if exec.Command("ip", "link", "show", l).Run() == nil {
			if out, err := exec.Command("ip", "link", "del", l).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("deleting link %s: %v: %s", l, err, out))
			}
		}
	}
	for k, v := range s.Sysctls {
		if err := os.WriteFile(sysctlPath(k), []byte(v), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("restoring %s: %w", k, err))
		}
	}
	for _, d := range s.NewDirs {
		errs = append(errs, removeUnmounted(d))
	}
	switch {
	case s.Dir == "":
	case s.KeepDir:
		errs = append(errs, unmountUnder(s.Dir))
	default:
		errs = append(errs, removeUnmounted(s.Dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("test ground teardown (the record stays in %s; the next Start or node.Cleanup tries again): %w", statePath(), err)
	}
	// No record is there when it was never saved (the snapshot failed) or
	// Cleanup removed it already: nothing is left to undo either way.
	if err := os.Remove(statePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// killProcesses kills the recorded components whose pid still runs the
// recorded executable (a pid may have been reused since a crash).
func (s *hostState) killProcesses() {
	for pid, exe := range s.Processes {
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && sameExe(got, exe) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for pid, exe := range s.Processes {
		waitGone(pid, exe)
	}
}

// sameExe compares /proc/PID/exe with a recorded executable; a binary
// replaced since (testenv rebuilt it) reads "PATH (deleted)".
func sameExe(got, exe string) bool {
	return strings.TrimSuffix(got, " (deleted)") == exe
}

func waitGone(pid int, exe string) {
	for range 50 {
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || !sameExe(got, exe) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killShims kills the containerd shims that serve the node's containerd
// (their command line names its socket under dir): they outlive containerd.
func killShims(dir string) {
	if dir == "" {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if strings.Contains(args[0], "containerd-shim") && strings.Contains(string(cmdline), dir+"/") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// cgroupDirs lists root's directory under every mounted cgroup v1
// controller (and the v2 unified tree when there is one).
func cgroupDirs(root string) []string {
	var dirs []string
	controllers, _ := os.ReadDir("/sys/fs/cgroup")
	for _, c := range controllers {
		d := filepath.Join("/sys/fs/cgroup", c.Name(), root)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// makeCgroupRoot creates root under every cgroup v1 controller (kubelet
// wants its cgroupRoot to exist), with cpuset's CPUs and memory nodes
// copied from the top, which a new cpuset cgroup lacks.
func makeCgroupRoot(root string) error {
	controllers, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return err
	}
	for _, ctl := range controllers {
		top := filepath.Join("/sys/fs/cgroup", ctl.Name())
		if fi, err := os.Stat(top); err != nil || !fi.IsDir() {
			continue
		}
		if err := os.MkdirAll(filepath.Join(top, root), 0o755); err != nil {
			return err
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(top, f)); err == nil {
				if err := os.WriteFile(filepath.Join(top, root, f), v, 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// killCgroup kills every process in root's cgroups: the Pods' containers,
// whose shims may already be gone.
func killCgroup(root string) {
	for _, d := range cgroupDirs(root) {
		_ = filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.Name() != "cgroup.procs" {
				return nil
			}
			data, _ := os.ReadFile(path)
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	}
}

// removeCgroup removes root's cgroups, deepest first, retrying while the
// killed processes exit.
func removeCgroup(root string) error {
	var last error
	for range 50 {
		last = nil
		for _, d := range cgroupDirs(root) {
			var sub []string
			_ = filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
				if err == nil && e.IsDir() {
					sub = append(sub, path)
				}
				return nil
			})
			sort.Sort(sort.Reverse(sort.StringSlice(sub)))
			for _, p := range sub {
				if err := syscall.Rmdir(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					last = fmt.Errorf("removing cgroup %s: %w", p, err)
				}
			}
		}
		if last == nil {
			return nil
		}
		killCgroup(root)
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// removeUnmounted unmounts everything under dir, then removes it; when a
// mount stays, nothing is removed (a bind mount's source is not ours to
// delete).
func removeUnmounted(dir string) error {
	if err := unmountUnder(dir); err != nil {
		return err
	}
	if points, err := mountsUnder(dir); err != nil || len(points) > 0 {
		return errors.Join(err, fmt.Errorf("%s still has mounts %v: not removed", dir, points))
	}
	return os.RemoveAll(dir)
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	points, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	if dir == "" || dir == "/" {
		return nil, nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	return points, sc.Err()
}

// unescapeMount decodes the octal escapes of /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// restoreIPTables removes the chains the node's components added (kube-proxy
// and kubelet's KUBE-*, the CNI plugins' CNI-*) and every rule that jumps to
// them, from the tables as they are now: rules others added meanwhile stay.
func (s *hostState) restoreIPTables() error {
	var errs []error
	for bin, before := range s.IPTables {
		now, err := exec.Command(bin + "-save").Output()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s-save: %w", bin, err))
			continue
		}
		cmd := exec.Command(bin+"-restore", "-w")
		cmd.Stdin = strings.NewReader(withoutNodeChains(string(now), before))
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s-restore: %v: %s", bin, err, out))
		}
	}
	return errors.Join(errs...)
}

// nodeChainPrefixes name the chains a node's components create.
var nodeChainPrefixes = []string{"KUBE-", "CNI-"}

// withoutNodeChains returns the iptables-save dump now without the chains
// whose names carry a nodeChainPrefixes prefix and that the dump before did
// not declare in the same table, and without the rules in or jumping to
// them. Chains are per table: a KUBE-* chain that existed in filter says
// nothing of one of that name in nat.
func withoutNodeChains(now, before string) string {
	existed := chainsByTable(before)
	var b strings.Builder
	table := ""
	for line := range strings.Lines(now) {
		if strings.HasPrefix(line, "*") {
			table = strings.TrimSpace(line[1:])
		}
		ours := func(chain string) bool {
			for _, p := range nodeChainPrefixes {
				if strings.HasPrefix(chain, p) {
					return !existed[table][chain]
				}
			}
			return false
		}
		if !ruleOfNode(line, ours) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// chainsByTable lists the chains an iptables-save dump declares, by table.
func chainsByTable(dump string) map[string]map[string]bool {
	chains := map[string]map[string]bool{}
	table := ""
	for line := range strings.Lines(dump) {
		switch {
		case strings.HasPrefix(line, "*"):
			table = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, ":"):
			if f := strings.Fields(line[1:]); len(f) > 0 {
				if chains[table] == nil {
					chains[table] = map[string]bool{}
				}
				chains[table][f[0]] = true
			}
		}
	}
	return chains
}

// ruleOfNode reports whether a dump line declares a chain of the node, is
// a rule in one, or jumps (-j) or goes (-g) to one.
func ruleOfNode(line string, ours func(string) bool) bool {
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return false
	case strings.HasPrefix(f[0], ":"):
		return ours(f[0][1:])
	case f[0] != "-A" || len(f) < 2:
		return false
	case ours(f[1]):
		return true
	}
	for i := 2; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g") && ours(f[i+1]) {
			return true
		}
	}
	return false
}
