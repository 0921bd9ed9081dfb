// Package canary is Flotilla's progressive delivery: the state machine of a
// Canary (Flagger's phases and mechanics), and the seams it drives: a
// Router that moves traffic (internal/canary/router), a MetricChecker that
// judges each step against Prometheus (internal/canary/metrics), Hooks that
// call the Canary's webhooks (internal/canary/webhook), and a Ledger that
// writes every phase change as a Git note on the commit the cluster runs
// (internal/canary/ledger).
//
// It is not a controller: internal/controller/canary_controller.go fetches
// the objects, calls the state machine and patches the status.
package canary
