// Package localfleet runs the processes of a fleet on this machine: a
// `flotilla agent` process out of cluster beside a control plane, with its
// metrics and webhook servers on loopback ports of its own. Its functions
// return errors instead of taking a testing.TB, so the demo (which ships in
// the binary), the benchmarks and the tests start agents the same way. The
// Git servers of such a fleet are internal/gitserve's; the control planes
// are test/controlplane's (for tests and benchmarks) and envtest's (for the
// demo).
//
// It is not a way to run agents in production: there, the agent is the
// Deployment `flotilla install` writes.
package localfleet
