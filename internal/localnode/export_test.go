package localnode

import "syscall"

// Crash kills every component at once and releases the lock without
// undoing anything, as a killed test binary would leave the host.
func (c *Cluster) Crash() {
	for _, p := range c.procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	c.procs = nil
	c.lock.Close()
	c.lock = nil
}
