// Package harness holds the parts of Flotilla's benchmarks that need no
// cluster: counting API requests by verb, reading process CPU time and the
// reconcile metrics, percentiles, generated manifests, the tables the
// benchmarks print and the splice of a generated section into
// BENCHMARKS.md.
//
// It is not a benchmark itself and starts nothing: the programs under
// bench/cmd start the control plane and the controllers, and use this
// package to measure them. Everything here is unit-tested without a
// cluster, so `go test -short ./...` covers it.
package harness
