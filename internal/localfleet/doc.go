// Package localfleet runs the processes of a fleet on this machine: a
// `flotilla agent` process out of cluster beside a control plane, with its
// metrics and webhook servers on loopback ports of its own. Its functions
// return errors instead of taking a testing.TB, so the demo (which ships in
// the binary), the benchmarks and the tests start agents the same way. The
// Git servers of such a fleet are internal/gitserve's; its control planes
// (a real kube-apiserver and etcd) start with [StartControlPlane], which the
// demo calls directly and test/controlplane wraps for the tests.
//
// It is not a way to run agents in production: there, the agent is the
// Deployment `flotilla install` writes.
package localfleet
