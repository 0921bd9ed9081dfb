package demo

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// agentStopGrace is how long an agent gets to stop after SIGTERM.
const agentStopGrace = 5 * time.Second

// agentProcess is one `flotilla agent` running beside its cluster.
type agentProcess struct {
	// cluster is the name of the cluster the agent serves.
	cluster string
	// webhookAddr is where the agent serves Receivers.
	webhookAddr string
	cmd         *exec.Cmd
	log         *os.File
	done        chan error
}

// startAgent runs binary's agent out of cluster against kubeconfig, its
// log in logPath. The clusters have no nodes, so the Deployment that
// bootstrap installs never gets a pod; this process is that agent.
func startAgent(cluster, binary, kubeconfig, dataDir, logPath string) (*agentProcess, error) {
	webhookAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "agent",
		"--kubeconfig", kubeconfig, "--data-dir", dataDir,
		"--metrics-addr", "0", "--health-addr", "0", "--webhook-addr", webhookAddr, "--log-format", "json")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s agent: %w", binary, err)
	}
	a := &agentProcess{cluster: cluster, webhookAddr: webhookAddr, cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { a.done <- cmd.Wait() }()
	return a, nil
}

// stop asks the agent to stop, and kills it after agentStopGrace.
func (a *agentProcess) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(agentStopGrace):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
	a.log.Close()
}

// exited reports an agent that stopped on its own, with its error.
func (a *agentProcess) exited() (bool, error) {
	select {
	case err := <-a.done:
		a.done <- err
		return true, err
	default:
		return false, nil
	}
}
