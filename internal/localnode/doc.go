// Package localnode starts a real single-node Kubernetes cluster on this
// machine for Flotilla's integration tests and demo: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler; containerd
// with runc and the CNI bridge; kubelet and kube-proxy (iptables mode);
// CoreDNS; and an OCI registry with TLS and basic auth that the node's
// containerd trusts. Pods run, Services route, Pods name Services through
// the cluster DNS, and logs and exec work.
//
// The binaries come from `make testenv` (hack/testenv.sh): the Kubernetes
// commands and CoreDNS built from their Go modules, the runtime and the
// registry from Debian. The node changes host-wide state (a bridge holding
// NodeIP, iptables chains, sysctls, cgroups, mounts, two directories under
// /var/lib), so only one node runs per machine at a time: Start waits for
// a machine-wide lock, and tests in several packages take turns. Everything
// the node changes is recorded before it is changed, so Stop, or Cleanup
// after a crash, puts the host back as it was.
//
// It needs root. It is not a product package: nothing outside tests, the
// benchmarks and the demo imports it.
package localnode
