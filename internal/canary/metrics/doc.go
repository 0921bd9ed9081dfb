// Package metrics judges a Canary's analysis steps: it implements
// canary.MetricChecker with Prometheus queries, either a MetricTemplate's
// (found by templateRef, its namespace defaulting to the Canary's, with the
// credentials of its provider's secretRef) or a built-in check of the
// Canary's router (request-success-rate, request-duration) run against
// spec.metricsServer.
//
// Queries are Go templates with Flagger's variables as functions:
// {{ name }}, {{ namespace }}, {{ target }}, {{ service }}, {{ ingress }},
// {{ interval }} and {{ variables.NAME }} (a metric's templateVariables).
// The value must fall in the metric's thresholdRange. A query with no
// value, a NaN, several series, an error or an unreachable server is a
// failed check whose message says why: a check never passes on missing
// data. Messages never carry a Secret's values or a URL's credentials.
//
// Built-in checks live in a table keyed by router, filled by
// RegisterBuiltin from each router's file (builtin_kubernetes.go here;
// builtin_gatewayapi.go for the Gateway API router).
//
// It is not a state machine: internal/canary counts the failed checks and
// decides what they mean.
package metrics
