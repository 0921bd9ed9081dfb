package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Observation is what the controller saw of the target and the primary just
// before a step. The engine reads the cluster only through it, so a step is
// a function of the Canary's status, the observation and the seams' answers.
type Observation struct {
	// Now is the time of the step.
	Now time.Time
	// TargetSpec is the hash of the target's pod template and of the
	// ConfigMaps and Secrets it uses.
	TargetSpec string
	// TrackedConfigs are those ConfigMaps and Secrets (kind/name) with the
	// hash of each.
	TrackedConfigs map[string]string
	// Images are the images of the target's containers.
	Images []string
	// Target is the target's (the canary's) readiness.
	Target Readiness
	// PrimaryExists says whether <target>-primary exists.
	PrimaryExists bool
	// PrimarySpec is the TargetSpec the primary was last given.
	PrimarySpec string
	// Primary is the primary's readiness.
	Primary Readiness
	// ReplicasAppliedBy names the field manager other than the engine that
	// applies the target's spec.replicas (a Stack whose manifest sets
	// them), which then fights the engine's scaling; empty when none does.
	ReplicasAppliedBy string
}

// Readiness says whether a Deployment serves with all its replicas, and if
// not, why.
type Readiness struct {
	// Ready is true when every replica of the current spec is available.
	Ready bool
	// Message says what is missing.
	Message string
}

// Workload changes the Deployments of a Canary: the primary and the target.
// Implemented for Kubernetes by Deployments (deployments.go).
type Workload interface {
	// EnsurePrimary creates <target>-primary from the target when it does not
	// exist; an existing primary is left as it is.
	EnsurePrimary(ctx context.Context, c *v1alpha1.Canary) error
	// Promote copies the target's pod template to the primary and records
	// spec (the TargetSpec it was judged as) on it.
	Promote(ctx context.Context, c *v1alpha1.Canary, spec string) error
	// ScaleTarget scales the target to zero, or up to the primary's replicas.
	ScaleTarget(ctx context.Context, c *v1alpha1.Canary, up bool) error
}

// Event is a Kubernetes event a step asks the controller to record.
type Event struct {
	// Type is Normal or Warning.
	Type string
	// Reason is one CamelCase word.
	Reason string
	// Message says what happened.
	Message string
}

// Result is what a step asks of the controller.
type Result struct {
	// RequeueAfter is when to step again; the controller also steps when
	// the Canary or its target changes.
	RequeueAfter time.Duration
	// Events to record on the Canary, in order.
	Events []Event
}

// Engine is the state machine of one Canary: Step advances it by one step.
// It keeps no state of its own: everything lives in the Canary's status, so
// a new Engine (an agent restarted, another replica elected) resumes where
// the last one stopped.
type Engine struct {
	workload Workload
	router   Router
	checker  MetricChecker
	hooks    Hooks
	ledger   Ledger
	rollback GitRollback
}

// Option configures an Engine.
type Option func(*Engine)

// WithLedger writes every phase change and step to l (for Canaries with
// spec.ledger). Without it no notes are written.
func WithLedger(l Ledger) Option { return func(e *Engine) { e.ledger = l } }

// WithGitRollback quarantines a rolled-back canary's images through g.
func WithGitRollback(g GitRollback) Option { return func(e *Engine) { e.rollback = g } }

// ErrMissingSeam is returned by New when a required seam is nil.
var ErrMissingSeam = errors.New("canary engine: workload, router, metric checker and hooks are required")

// New returns an Engine that acts through w and r, checks with m and calls
// webhooks with h.
func New(w Workload, r Router, m MetricChecker, h Hooks, opts ...Option) (*Engine, error) {
	if w == nil || r == nil || m == nil || h == nil {
		return nil, ErrMissingSeam
	}
	e := &Engine{workload: w, router: r, checker: m, hooks: h}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Step advances c by one step of its state machine, given obs, and updates
// c.Status (phase, counters, conditions). On an error from a seam the
// status stays as it was before the step, but for the conditions that say
// why, and the step reports no event: the same step is tried again whole
// (a failed check it counted is not counted twice).
func (e *Engine) Step(ctx context.Context, c *v1alpha1.Canary, obs Observation) (Result, error) {
	before := c.Status.DeepCopy()
	s := &step{Engine: e, ctx: ctx, c: c, obs: obs}
	err := s.run()
	if err != nil {
		c.Status = *before
		s.message, s.entries, s.result.Events = err.Error(), nil, nil
	}
	e.writeLedger(ctx, c, s)
	for _, ev := range s.result.Events {
		e.hooks.Event(ctx, c, ev.Type, ev.Message)
	}
	s.setConditions(err)
	return s.result, err
}

// step is one call of Step: its inputs and what it recorded.
type step struct {
	*Engine
	ctx     context.Context
	c       *v1alpha1.Canary
	obs     Observation
	result  Result
	entries []LedgerEntry
	// message is the step's outcome, for the Ready condition.
	message string
	// metrics are the results of the checks this step ran.
	metrics []v1alpha1.MetricResult
	// stuck marks an Initializing primary past its deadline.
	stuck bool
}

func (s *step) run() error {
	if err := s.router.Reconcile(s.ctx, s.c); err != nil {
		return fmt.Errorf("reconciling the Services and routes of canary %s: %w", s.name(), err)
	}
	if done, err := s.requests(); done || err != nil {
		return err
	}
	switch s.c.Status.Phase {
	case "", v1alpha1.CanaryPhaseInitializing:
		return s.initialize()
	case v1alpha1.CanaryPhaseInitialized, v1alpha1.CanaryPhaseSucceeded, v1alpha1.CanaryPhaseFailed:
		return s.idle()
	case v1alpha1.CanaryPhaseWaiting:
		return s.waiting()
	case v1alpha1.CanaryPhaseProgressing:
		return s.progress()
	case v1alpha1.CanaryPhaseWaitingPromotion:
		return s.waitingPromotion()
	case v1alpha1.CanaryPhaseFrozen:
		return s.frozen()
	case v1alpha1.CanaryPhasePromoting:
		return s.promote()
	case v1alpha1.CanaryPhaseFinalising:
		return s.finalise()
	}
	return fmt.Errorf("canary %s: unknown phase %q in status", s.name(), s.c.Status.Phase)
}

func (s *step) name() string { return s.c.Namespace + "/" + s.c.Name }

// requeue asks for the next step after d (the shortest asked wins).
func (s *step) requeue(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	if s.result.RequeueAfter == 0 || d < s.result.RequeueAfter {
		s.result.RequeueAfter = d
	}
}

// poll is how often a wait for readiness looks again (the Deployments'
// watch usually steps sooner).
func (s *step) poll() time.Duration { return min(Interval(s.c), 10*time.Second) }

// ErrUnavailable is what Unavailable answers.
var ErrUnavailable = errors.New("not available in this agent")

// Unavailable stands for a MetricChecker or Hooks the agent does not have:
// every check fails and every webhook refuses, so nothing passes unrun.
// Validate refuses Canaries that would need it.
type Unavailable struct{}

var (
	_ MetricChecker = Unavailable{}
	_ Hooks         = Unavailable{}
)

// Check implements MetricChecker: always a failed check.
func (Unavailable) Check(_ context.Context, _ *v1alpha1.Canary, m v1alpha1.CanaryMetric) v1alpha1.MetricResult {
	return v1alpha1.MetricResult{Name: m.Name, Message: "metric checks are " + ErrUnavailable.Error()}
}

// Call implements Hooks: always a refusal.
func (Unavailable) Call(context.Context, *v1alpha1.Canary, v1alpha1.CanaryWebhook, v1alpha1.CanaryPhase) error {
	return fmt.Errorf("webhooks are %w", ErrUnavailable)
}

// Event implements Hooks: nothing is sent.
func (Unavailable) Event(context.Context, *v1alpha1.Canary, string, string) {}
