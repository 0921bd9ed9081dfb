package localnode

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// process is one component of the test ground, started with its output in
// a log file of its own.
type process struct {
	name    string
	cmd     *exec.Cmd
	logFile string
	done    chan struct{}
	err     error
}

// StepError says which step of the test ground failed and where its log is.
type StepError struct {
	// Step is the component or action, for example "kubelet".
	Step string
	// Log is the component's log file, when it has one.
	Log string
	Err error
}

func (e *StepError) Error() string {
	if e.Log == "" {
		return fmt.Sprintf("test ground: %s: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("test ground: %s: %v (log: %s)", e.Step, e.Err, e.Log)
}

func (e *StepError) Unwrap() error { return e.Err }

// startProcess starts bin with args in its own process group, with stdout
// and stderr in logDir/name.log, and records its pid in the host state so
// that a later Cleanup can stop it after a crash.
func startProcess(logDir, name, bin string, args ...string) (*process, error) {
	logFile := filepath.Join(logDir, name+".log")
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, &StepError{Step: name, Err: err}
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, &StepError{Step: name, Log: logFile, Err: err}
	}
	p := &process{name: name, cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// fail wraps err as this process's step error, saying when it exited.
func (p *process) fail(err error) error {
	if p.exited() {
		err = fmt.Errorf("%w (the process exited: %v)", err, p.err)
	}
	return &StepError{Step: p.name, Log: p.logFile, Err: err}
}

// waitReady polls ready until it succeeds, the process exits or timeout
// passes. A check that passes after the process exited is a failure:
// something else answers on its port (one taken after it was picked).
func (p *process) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(ctx); last == nil {
			if p.exited() {
				return p.fail(errors.New("its readiness check passed, but not for it: another process answers on its port"))
			}
			return nil
		}
		select {
		case <-p.done:
			return p.fail(fmt.Errorf("not ready: %w", last))
		case <-ctx.Done():
			return p.fail(fmt.Errorf("not ready after %s: %w", timeout, last))
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace. The
// group is killed also when its leader has exited: what the leader started
// in it (containerd's children, say) would otherwise stay.
func (p *process) stop(grace time.Duration) {
	if p == nil {
		return
	}
	group := -p.cmd.Process.Pid
	if !p.exited() {
		_ = syscall.Kill(group, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	// The leader's pid stays reserved while members of its group live, so
	// this reaches no other process's group.
	_ = syscall.Kill(group, syscall.SIGKILL)
	<-p.done
}

// Ports are picked below the kernel's ephemeral range (32768 and up by
// default): a port picked there could be taken by an outgoing connection in
// the seconds before its component binds it.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
)

// freePorts returns n distinct ports at host that nobody listens on now,
// picked at random below the ephemeral range.
func freePorts(host string, n int) ([]int, error) {
	seen := map[int]bool{}
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("no %d free ports on %s between %d and %d", n, host, portRangeLow, portRangeHigh)
		}
		p := portRangeLow + rand.IntN(portRangeHigh-portRangeLow)
		if seen[p] {
			continue
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, p)
	}
	return ports, nil
}
