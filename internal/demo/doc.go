// Package demo runs a fleet in a box: three local clusters (a real
// kube-apiserver and etcd each, no nodes), the example fleet repository
// served over smart HTTP by a local Git server, an agent per cluster
// bootstrapped the way `flotilla bootstrap` does it, and a script that shows
// the fleet converging, a hand edit reverted and a commit rolling through.
//
// It is what `flotilla demo` runs and what the README's first command
// shows. It is not a way to run clusters for real: the clusters have no
// kubelet, scheduler or controller-manager, so Deployments never get pods;
// the example's health checks only cover objects the API server alone makes
// ready.
package demo
