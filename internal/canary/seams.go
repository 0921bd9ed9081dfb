package canary

import (
	"context"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Router moves traffic between the primary and the canary. Implementations
// live in internal/canary/router: kubernetes (blue/green: Services only,
// weights are always 100/0 or 0/100 at promotion) and gatewayapi (the
// weights of an HTTPRoute's backendRefs).
type Router interface {
	// Reconcile creates or updates the routing objects of c (the HTTPRoute
	// for gatewayapi), with all traffic on the primary when they are new.
	Reconcile(ctx context.Context, c *v1alpha1.Canary) error
	// SetRoutes sets the weights, in percent; primary+canary is 100.
	SetRoutes(ctx context.Context, c *v1alpha1.Canary, primary, canary int) error
	// GetRoutes reads the weights in effect.
	GetRoutes(ctx context.Context, c *v1alpha1.Canary) (primary, canary int, err error)
}

// MetricChecker runs one check of an analysis step. It never returns a
// passing result for a query with no value, an error or an unreachable
// server: those are failed checks with a message saying why.
// Implemented in internal/canary/metrics.
type MetricChecker interface {
	Check(ctx context.Context, c *v1alpha1.Canary, m v1alpha1.CanaryMetric) v1alpha1.MetricResult
}

// Hooks calls a Canary's webhooks with Flagger's payload. Implemented in
// internal/canary/webhook.
type Hooks interface {
	// Call POSTs the payload to hook and returns an error unless it answered
	// 2xx in time. phase is the Canary's phase at the call.
	Call(ctx context.Context, c *v1alpha1.Canary, hook v1alpha1.CanaryWebhook, phase v1alpha1.CanaryPhase) error
	// Event sends an event to every webhook of type event (best effort).
	Event(ctx context.Context, c *v1alpha1.Canary, eventType, message string)
}

// LedgerEntry is one line of the rollout ledger: a phase change or an
// analysis step of one Canary.
type LedgerEntry struct {
	// Time of the change.
	Time time.Time `json:"time"`
	// Canary is namespace/name.
	Canary string `json:"canary"`
	// Phase after the change.
	Phase v1alpha1.CanaryPhase `json:"phase"`
	// Weight of the canary after the change, in percent.
	Weight int `json:"weight"`
	// FailedChecks after the change.
	FailedChecks int `json:"failedChecks"`
	// Images of the canary's containers.
	Images []string `json:"images,omitempty"`
	// Metrics of the step, when it was one.
	Metrics []v1alpha1.MetricResult `json:"metrics,omitempty"`
	// Message says what happened and why, in words.
	Message string `json:"message"`
}

// Ledger records entries as Git notes on the commit the cluster runs.
// Implemented in internal/canary/ledger.
type Ledger interface {
	// Write appends entries to the note of the commit the Canary's Stack
	// last applied and pushes refs/notes/flotilla, merging with notes other
	// clusters pushed meanwhile. It returns the commit written to.
	Write(ctx context.Context, c *v1alpha1.Canary, entries []LedgerEntry) (commit string, err error)
}

// GitRollback puts Git back on the previous image when a failed canary's
// image came from an ImagePolicy: the policy quarantines the tag, so its
// ImageUpdate writes the previous one. Implemented in internal/canary/ledger
// (with the ImagePolicy controller honouring status.quarantinedTags).
type GitRollback interface {
	Quarantine(ctx context.Context, c *v1alpha1.Canary, images []string, reason string) error
}
