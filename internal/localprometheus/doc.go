// Package localprometheus runs a REAL Prometheus server (Debian's prometheus
// package, installed by hack/testenv.sh) for integration tests, the
// real-node tests and the demo.
//
// [Start] writes a configuration with the caller's scrape configs (static
// targets, or Kubernetes pod discovery through a kubeconfig file with the
// usual prometheus.io/scrape and prometheus.io/port annotations; Debian
// builds Prometheus without Kubernetes discovery, so this package serves
// the Pods to it by HTTP service discovery), runs the
// server on a free loopback port in a temporary directory with a scrape
// interval of one second, and waits until /-/ready answers. [Server.Stop]
// kills it and removes the directory; [Server.Logs] keeps its output so a
// failed test can show it. The core API returns errors and never takes a
// testing.T, so internal/demo can use it too; [New] is the test wrapper.
//
// It is not a Prometheus client: query it with
// github.com/prometheus/client_golang/api/prometheus/v1 at [Server.URL].
package localprometheus
