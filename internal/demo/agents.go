package demo

import (
	"time"

	"github.com/flotilla-io/flotilla/internal/localfleet"
)

// agentStopGrace is how long an agent gets to stop after SIGTERM.
const agentStopGrace = 5 * time.Second

// agentProcess is one `flotilla agent` running beside its cluster.
type agentProcess struct {
	// cluster is the name of the cluster the agent serves.
	cluster string
	*localfleet.Agent
}

// startAgent runs binary's agent out of cluster against kubeconfig, its
// log in logPath and its Receivers on a loopback port. The clusters have
// no nodes, so the Deployment that bootstrap installs never gets a pod;
// this process is that agent.
func startAgent(cluster, binary, kubeconfig, dataDir, logPath string) (*agentProcess, error) {
	a, err := localfleet.StartAgent(localfleet.AgentOptions{
		Binary: binary, Kubeconfig: kubeconfig, DataDir: dataDir, LogFile: logPath,
		Webhooks: true, StopGrace: agentStopGrace,
	})
	if err != nil {
		return nil, err
	}
	return &agentProcess{cluster: cluster, Agent: a}, nil
}
