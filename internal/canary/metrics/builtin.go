package metrics

import (
	"sort"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Names of the built-in checks (Flagger's).
const (
	// RequestSuccessRate is the percentage (0-100) of the canary's requests
	// that did not answer 5xx.
	RequestSuccessRate = "request-success-rate"
	// RequestDuration is the 99th percentile of the canary's request
	// duration, in milliseconds.
	RequestDuration = "request-duration"
)

// Builtin is a check that needs no MetricTemplate: its query runs on the
// Canary's spec.metricsServer.
type Builtin struct {
	// Query is a template with the variables of a MetricTemplate's query.
	Query string
}

// builtins are the built-in checks by router, then by name. Each router's
// file fills its row from init with RegisterBuiltin.
var builtins = map[string]map[string]Builtin{}

// RegisterBuiltin makes b the built-in check name of router. It is meant
// for init functions (it is not safe to call while checks run); a second
// registration of the same name replaces the first.
func RegisterBuiltin(router, name string, b Builtin) {
	if builtins[router] == nil {
		builtins[router] = map[string]Builtin{}
	}
	builtins[router][name] = b
}

// LookupBuiltin returns the built-in check name of router.
func LookupBuiltin(router, name string) (Builtin, bool) {
	b, ok := builtins[routerOrDefault(router)][name]
	return b, ok
}

// BuiltinNames lists the built-in checks of router, sorted.
func BuiltinNames(router string) []string {
	var names []string
	for n := range builtins[routerOrDefault(router)] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// routerOrDefault is the router a Canary's spec.provider names: kubernetes
// when empty, as the API's default.
func routerOrDefault(router string) string {
	if router == "" {
		return v1alpha1.RouterKubernetes
	}
	return router
}
