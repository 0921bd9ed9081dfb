package localnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tempStateDir points StateDir at a temporary directory for one test, so
// that it neither sees nor takes the machine's real node lock and record.
func tempStateDir(t *testing.T) string {
	t.Helper()
	old := StateDir
	StateDir = t.TempDir()
	t.Cleanup(func() { StateDir = old })
	return StateDir
}

func TestStateSaveAndLoad(t *testing.T) {
	dir := tempStateDir(t)
	want := &hostState{
		Dir: "/tmp/flotilla-node-1", KeepDir: true,
		Processes:  map[int]string{42: "/usr/bin/containerd"},
		Links:      []string{nodeLink, podBridge},
		CgroupRoot: cgroupRoot,
		Sysctls:    map[string]string{"net.ipv4.ip_forward": "0"},
		NewDirs:    []string{"/var/lib/cni"},
		IPTables:   map[string]string{"iptables": "*filter\nCOMMIT\n"},
	}
	if err := want.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("the temporary file stayed: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "state.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state.json: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	got, err := loadState()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(hostState{})); diff != "" {
		t.Errorf("loaded state (-want +got):\n%s", diff)
	}
}

func TestLoadState(t *testing.T) {
	t.Run("no record is no state and no error", func(t *testing.T) {
		tempStateDir(t)
		s, err := loadState()
		if s != nil || err != nil {
			t.Errorf("loadState = %v, %v, want nil, nil", s, err)
		}
	})
	t.Run("a record that does not parse names the file", func(t *testing.T) {
		dir := tempStateDir(t)
		if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadState()
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "state.json")) {
			t.Errorf("error = %v, want one naming the record", err)
		}
	})
}

func TestLockMakesNodesTakeTurns(t *testing.T) {
	dir := tempStateDir(t)
	first, err := lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if second, err := lock(ctx); err == nil {
		second.Close()
		t.Fatal("a second lock was granted while the first was held")
	} else if !strings.Contains(err.Error(), "another real node") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want it to say it waited for another node", err)
	}
	// The waiter gets the lock once the holder lets go.
	got := make(chan error, 1)
	go func() {
		f, err := lock(context.Background())
		if err == nil {
			f.Close()
		}
		got <- err
	}()
	first.Close()
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("lock after release: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not get the released lock")
	}
}

func TestWithLockRunsWhileHoldingTheLock(t *testing.T) {
	tempStateDir(t)
	ran := false
	err := WithLock(context.Background(), func() {
		ran = true
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if f, err := lock(ctx); err == nil {
			f.Close()
			t.Error("the lock was free inside WithLock")
		}
	})
	if err != nil || !ran {
		t.Fatalf("WithLock = %v, ran %v", err, ran)
	}
	f, err := lock(context.Background())
	if err != nil {
		t.Fatalf("the lock is still held after WithLock: %v", err)
	}
	f.Close()
}

func TestCleanupWithoutARecordDoesNothing(t *testing.T) {
	tempStateDir(t)
	if err := Cleanup(context.Background()); err != nil {
		t.Errorf("Cleanup = %v", err)
	}
}

func TestCleanupReportsARecordItCannotRead(t *testing.T) {
	dir := tempStateDir(t)
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(context.Background()); err == nil {
		t.Error("Cleanup accepted a record that is not a state")
	}
}

// TestUndoRemovesTheNodeDirectoriesAndTheRecord: teardown of a node that
// changed nothing else on the host (no links, sysctls, cgroups or
// iptables) removes its directory and the directories it created, and then
// its record, so that the next Start has nothing to clean.
func TestUndoRemovesTheNodeDirectoriesAndTheRecord(t *testing.T) {
	tempStateDir(t)
	tmp := t.TempDir()
	nodeDir := filepath.Join(tmp, "flotilla-node-1")
	newDir := filepath.Join(tmp, "var-lib-cni")
	for _, d := range []string{filepath.Join(nodeDir, "etcd"), filepath.Join(newDir, "results")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &hostState{Dir: nodeDir, NewDirs: []string{newDir}}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if err := cleanupLocked(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{nodeDir, newDir, statePath()} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s is still there after teardown (%v)", d, err)
		}
	}
	if err := cleanupLocked(); err != nil {
		t.Errorf("a second teardown: %v", err)
	}
}

func TestUndoKeepsTheDirectoryWhenAsked(t *testing.T) {
	tempStateDir(t)
	nodeDir := t.TempDir()
	s := &hostState{Dir: nodeDir, KeepDir: true}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if err := s.undo(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(nodeDir); err != nil {
		t.Errorf("KeepDir: %s is gone (%v)", nodeDir, err)
	}
	if _, err := os.Stat(statePath()); !os.IsNotExist(err) {
		t.Errorf("the record stayed: %v", err)
	}
}

// TestUndoWithoutASavedRecordSucceeds: when the host snapshot fails before
// the first save (iptables-save failing, say), Start's teardown found no
// record to remove and failed with "no such file", hiding the real error
// behind a second one; Stop after Cleanup did the same.
func TestUndoWithoutASavedRecordSucceeds(t *testing.T) {
	tempStateDir(t)
	nodeDir := filepath.Join(t.TempDir(), "node")
	if err := os.Mkdir(nodeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &hostState{Dir: nodeDir}
	if err := s.undo(); err != nil {
		t.Fatalf("undo with no record saved: %v", err)
	}
	if _, err := os.Stat(nodeDir); !os.IsNotExist(err) {
		t.Errorf("%s is still there", nodeDir)
	}
}

func TestUndoKeepsTheRecordWhenAStepFails(t *testing.T) {
	tempStateDir(t)
	s := &hostState{IPTables: map[string]string{"no-such-iptables": ""}}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	err := s.undo()
	if err == nil || !strings.Contains(err.Error(), "no-such-iptables-save") || !strings.Contains(err.Error(), statePath()) {
		t.Fatalf("error = %v, want the failed step and where the record stays", err)
	}
	if _, err := os.Stat(statePath()); err != nil {
		t.Errorf("the record is gone although teardown failed: %v", err)
	}
}

// startSleeper starts a process in its own group, as the node's
// components are, and reaps it when the test ends.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func exeOf(t *testing.T, pid int) string {
	t.Helper()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestKillProcessesKillsOnlyWhatStillRunsTheRecordedExecutable(t *testing.T) {
	recorded := startSleeper(t)
	reused := startSleeper(t)
	s := &hostState{Processes: map[int]string{
		recorded.Process.Pid: exeOf(t, recorded.Process.Pid),
		// A pid reused since the crash by another program: not ours.
		reused.Process.Pid: "/usr/local/bin/kubelet",
	}}
	s.killProcesses()
	if alive(recorded.Process.Pid) {
		t.Errorf("recorded process %d still runs", recorded.Process.Pid)
	}
	if !alive(reused.Process.Pid) {
		t.Errorf("process %d, which runs another executable than recorded, was killed", reused.Process.Pid)
	}
}

func TestSameExe(t *testing.T) {
	tests := []struct {
		got, exe string
		want     bool
	}{
		{"/opt/testenv/kubelet", "/opt/testenv/kubelet", true},
		// testenv rebuilt the binary since the node started.
		{"/opt/testenv/kubelet (deleted)", "/opt/testenv/kubelet", true},
		{"/usr/bin/sleep", "/opt/testenv/kubelet", false},
		{"/opt/testenv/kubelet2", "/opt/testenv/kubelet", false},
	}
	for _, tt := range tests {
		if got := sameExe(tt.got, tt.exe); got != tt.want {
			t.Errorf("sameExe(%q, %q) = %v, want %v", tt.got, tt.exe, got, tt.want)
		}
	}
}

func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":                "/proc/sys/net/ipv4/ip_forward",
		"net.bridge.bridge-nf-call-iptables": "/proc/sys/net/bridge/bridge-nf-call-iptables",
		"vm.overcommit_memory":               "/proc/sys/vm/overcommit_memory",
	} {
		if got := sysctlPath(key); got != want {
			t.Errorf("sysctlPath(%q) = %q, want %q", key, got, want)
		}
	}
	for _, key := range sysctls {
		if strings.ContainsAny(key, "/ ") {
			t.Errorf("sysctl %q is not in dotted form", key)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/var/lib/kubelet", "/var/lib/kubelet"},
		{`/tmp/with\040space`, "/tmp/with space"},
		{`/tmp/tab\011and\134backslash`, "/tmp/tab\tand\\backslash"},
		{`/tmp/not\9escape`, `/tmp/not\9escape`},
		{`/tmp/short\04`, `/tmp/short\04`},
	}
	for _, tt := range tests {
		if got := unescapeMount(tt.in); got != tt.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMountsUnder(t *testing.T) {
	for _, dir := range []string{"", "/"} {
		if points, err := mountsUnder(dir); points != nil || err != nil {
			t.Errorf("mountsUnder(%q) = %v, %v, want nothing: the root is never the node's", dir, points, err)
		}
	}
	if points, err := mountsUnder(t.TempDir()); len(points) != 0 || err != nil {
		t.Errorf("mountsUnder(a fresh directory) = %v, %v", points, err)
	}
	// /proc is a mount on every Linux machine: it and what lies below
	// come deepest first.
	points, err := mountsUnder("/proc")
	if err != nil || len(points) == 0 || points[len(points)-1] != "/proc" {
		t.Fatalf("mountsUnder(/proc) = %v, %v, want /proc last", points, err)
	}
	for _, p := range points {
		if p != "/proc" && !strings.HasPrefix(p, "/proc/") {
			t.Errorf("mount %s is not under /proc", p)
		}
	}
	// A sibling with the same prefix is not below it.
	if sib, _ := mountsUnder("/pro"); len(sib) != 0 {
		t.Errorf("mountsUnder(/pro) = %v, want none", sib)
	}
}

func TestRemoveUnmountedRemovesADirectoryWithoutMounts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := removeUnmounted(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there", dir)
	}
	if err := removeUnmounted(dir); err != nil {
		t.Errorf("removing it again: %v", err)
	}
}

func TestHostDirsAndChainPrefixes(t *testing.T) {
	// kubelet hard-codes /var/lib/kubelet/device-plugins and containerd 1.6
	// keeps CNI results in /var/lib/cni, whatever they are told: teardown
	// must know both.
	for _, want := range []string{"/var/lib/kubelet", "/var/lib/cni"} {
		found := false
		for _, d := range hostDirs {
			found = found || d == want
		}
		if !found {
			t.Errorf("hostDirs lacks %s", want)
		}
	}
	if diff := cmp.Diff([]string{"KUBE-", "CNI-"}, nodeChainPrefixes); diff != "" {
		t.Errorf("nodeChainPrefixes (-want +got):\n%s", diff)
	}
}
