package canary

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Defaults of the fields a Canary may leave out (Flagger's).
const (
	// DefaultInterval is analysis.interval when it is empty.
	DefaultInterval = time.Minute
	// DefaultThreshold is analysis.threshold when it is zero.
	DefaultThreshold = 5
	// DefaultStepWeight is analysis.stepWeight when neither it nor
	// stepWeights is set.
	DefaultStepWeight = 10
	// DefaultMaxWeight is analysis.maxWeight when it is zero.
	DefaultMaxWeight = 100
	// DefaultProgressDeadline is progressDeadlineSeconds when it is unset.
	DefaultProgressDeadline = 600 * time.Second
)

// selectorLabels are the pod labels, in order of preference, whose value
// names the app in the target's selector (Flagger's choice).
var selectorLabels = []string{"app.kubernetes.io/name", "app", "name"}

// ApexName is the name of the Service that clients call: spec.service.name
// or the target's name.
func ApexName(c *v1alpha1.Canary) string {
	return cmp.Or(c.Spec.Service.Name, c.Spec.TargetRef.Name)
}

// PrimaryServiceName is the Service that selects the primary's pods.
func PrimaryServiceName(c *v1alpha1.Canary) string { return ApexName(c) + "-primary" }

// CanaryServiceName is the Service that selects the target's (canary's) pods.
func CanaryServiceName(c *v1alpha1.Canary) string { return ApexName(c) + "-canary" }

// PrimaryName is the name of the Deployment that runs the stable version.
func PrimaryName(c *v1alpha1.Canary) string { return c.Spec.TargetRef.Name + "-primary" }

// SelectorLabel returns the label of d's selector that names the app
// (app.kubernetes.io/name, app or name) and its value. The primary's pods
// carry the same label with the value suffixed -primary.
func SelectorLabel(d *appsv1.Deployment) (key, value string, err error) {
	if d.Spec.Selector != nil {
		for _, k := range selectorLabels {
			if v, ok := d.Spec.Selector.MatchLabels[k]; ok && v != "" {
				return k, v, nil
			}
		}
	}
	return "", "", &SpecError{Field: "spec.targetRef", Reason: fmt.Sprintf(
		"Deployment %s/%s has no selector.matchLabels entry app.kubernetes.io/name, app or name; the primary and the Services are named after it",
		d.Namespace, d.Name)}
}

// Interval is analysis.interval, or DefaultInterval.
func Interval(c *v1alpha1.Canary) time.Duration {
	d, err := time.ParseDuration(c.Spec.Analysis.Interval)
	if err != nil || d <= 0 {
		return DefaultInterval
	}
	return d
}

// Threshold is analysis.threshold, or DefaultThreshold.
func Threshold(c *v1alpha1.Canary) int {
	if c.Spec.Analysis.Threshold > 0 {
		return c.Spec.Analysis.Threshold
	}
	return DefaultThreshold
}

// ProgressDeadline is progressDeadlineSeconds, or DefaultProgressDeadline.
func ProgressDeadline(c *v1alpha1.Canary) time.Duration {
	if p := c.Spec.ProgressDeadlineSeconds; p != nil && *p > 0 {
		return time.Duration(*p) * time.Second
	}
	return DefaultProgressDeadline
}

// BlueGreen reports whether c's analysis counts iterations instead of
// weights: the kubernetes router has no weights.
func BlueGreen(c *v1alpha1.Canary) bool {
	return cmp.Or(c.Spec.Provider, v1alpha1.RouterKubernetes) == v1alpha1.RouterKubernetes
}

// MaxWeight is the last weight before promotion: the last of stepWeights,
// or analysis.maxWeight, or DefaultMaxWeight.
func MaxWeight(c *v1alpha1.Canary) int {
	a := c.Spec.Analysis
	if n := len(a.StepWeights); n > 0 {
		return a.StepWeights[n-1]
	}
	return cmp.Or(a.MaxWeight, DefaultMaxWeight)
}

// NextWeight is the weight after current: the next of stepWeights, or
// current+stepWeight, never above MaxWeight.
func NextWeight(c *v1alpha1.Canary, current int) int {
	a := c.Spec.Analysis
	if len(a.StepWeights) > 0 {
		for _, w := range a.StepWeights {
			if w > current {
				return w
			}
		}
		return MaxWeight(c)
	}
	return min(current+cmp.Or(a.StepWeight, DefaultStepWeight), MaxWeight(c))
}

// SpecError is a Canary field no retry can cure: the controller marks the
// Canary Stalled with it.
type SpecError struct {
	// Field is the path of the field, like spec.analysis.iterations.
	Field string
	// Reason says what is wrong and what to do.
	Reason string
}

func (e *SpecError) Error() string { return e.Field + ": " + e.Reason }

// Validate returns a *SpecError (joined when several) for what the API
// server's schema cannot check. checker and hooks say whether this agent
// can run metric checks and webhooks at all: a Canary that needs one it
// cannot run is refused, never passed.
func Validate(c *v1alpha1.Canary, canCheck, canCall bool) error {
	var errs []error
	a := c.Spec.Analysis
	add := func(field, reason string) { errs = append(errs, &SpecError{Field: field, Reason: reason}) }
	if k := cmp.Or(c.Spec.TargetRef.Kind, "Deployment"); k != "Deployment" {
		add("spec.targetRef.kind", fmt.Sprintf("%q is not supported: only Deployment", k))
	}
	if BlueGreen(c) && a.Iterations < 1 && !c.Spec.SkipAnalysis {
		add("spec.analysis.iterations", "the kubernetes router is blue/green: set analysis.iterations (the number of intervals the canary is judged for)")
	}
	for i := 1; i < len(a.StepWeights); i++ {
		if a.StepWeights[i] <= a.StepWeights[i-1] {
			add("spec.analysis.stepWeights", "weights must increase")
			break
		}
	}
	for i, w := range a.StepWeights {
		if w < 1 || w > 100 {
			add(fmt.Sprintf("spec.analysis.stepWeights[%d]", i), "a weight is between 1 and 100")
		}
	}
	if len(a.Metrics) > 0 && !canCheck {
		add("spec.analysis.metrics", "this agent has no metric checker configured yet, so it cannot judge these checks; it refuses the Canary rather than pass checks it did not run")
	}
	if len(a.Webhooks) > 0 && !canCall {
		add("spec.analysis.webhooks", "this agent has no webhook client configured yet, so it cannot call these webhooks; it refuses the Canary rather than pass gates it did not ask")
	}
	for i, m := range a.Metrics {
		if m.TemplateRef == nil && m.Name != "request-success-rate" && m.Name != "request-duration" {
			add(fmt.Sprintf("spec.analysis.metrics[%d]", i), fmt.Sprintf("%q is not a built-in metric (request-success-rate, request-duration): set templateRef", m.Name))
		}
	}
	for i, h := range a.Webhooks {
		errs = append(errs, validateWebhook(fmt.Sprintf("spec.analysis.webhooks[%d]", i), h)...)
	}
	return errors.Join(errs...)
}

// validateWebhook refuses a hook the webhook client could only fail to
// call: a URL that is not an absolute http(s) URL with a host, or a
// timeout that is not a positive duration. The URL is never quoted back:
// its userinfo or query may hold a credential.
func validateWebhook(field string, h v1alpha1.CanaryWebhook) []error {
	var errs []error
	u, err := url.Parse(h.URL)
	switch {
	case err != nil || u.Host == "":
		errs = append(errs, &SpecError{Field: field + ".url", Reason: "not an absolute URL such as http://loadtester.test/gate/check"})
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, &SpecError{Field: field + ".url", Reason: fmt.Sprintf("scheme %q is not supported: use http:// or https://", u.Scheme)})
	}
	if h.Timeout != "" {
		if _, err := ParseWebhookTimeout(h.Timeout); err != nil {
			errs = append(errs, &SpecError{Field: field + ".timeout", Reason: err.Error()})
		}
	}
	return errs
}

// ParseWebhookTimeout reads a webhook's timeout: a positive Go duration.
// Validate and the webhook client both read it here.
func ParseWebhookTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration like 10s", s)
	}
	return d, nil
}
