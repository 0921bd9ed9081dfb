package canary_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// cluster stands for the Deployments and the router: the inputs of the
// state machine. Deployments are ready as soon as they have replicas
// unless broken says otherwise.
type cluster struct {
	targetSpec     string
	images         []string
	targetReplicas int32
	targetBroken   bool
	primaryExists  bool
	primarySpec    string
	primaryBroken  bool
	primaryCopies  int
	routes         [2]int
	weights        []int
	routerErr      error
	scaleDownErr   error
}

func newCluster() *cluster {
	return &cluster{targetSpec: "spec-v1", images: []string{"app:1.0.0"}, targetReplicas: 2, routes: [2]int{100, 0}}
}

// release gives the target a new spec, as a Stack applying a new image does.
func (k *cluster) release(spec, image string) {
	k.targetSpec, k.images = spec, []string{image}
}

func (k *cluster) observe(now time.Time) canary.Observation {
	obs := canary.Observation{
		Now: now, TargetSpec: k.targetSpec, Images: k.images,
		Target:        canary.Readiness{Ready: k.targetReplicas > 0 && !k.targetBroken, Message: "target"},
		PrimaryExists: k.primaryExists, PrimarySpec: k.primarySpec,
		Primary: canary.Readiness{Ready: k.primaryExists && !k.primaryBroken, Message: "primary"},
	}
	return obs
}

func (k *cluster) EnsurePrimary(context.Context, *v1alpha1.Canary) error {
	if !k.primaryExists {
		k.primaryExists, k.primarySpec = true, k.targetSpec
	}
	return nil
}

func (k *cluster) Promote(_ context.Context, _ *v1alpha1.Canary, spec string) error {
	if spec != k.targetSpec {
		return errors.New("target changed")
	}
	k.primarySpec = spec
	k.primaryCopies++
	return nil
}

func (k *cluster) ScaleTarget(_ context.Context, _ *v1alpha1.Canary, up bool) error {
	if !up && k.scaleDownErr != nil {
		return k.scaleDownErr
	}
	k.targetReplicas = 0
	if up {
		k.targetReplicas = 2
	}
	return nil
}

func (k *cluster) Reconcile(context.Context, *v1alpha1.Canary) error { return k.routerErr }

func (k *cluster) SetRoutes(_ context.Context, _ *v1alpha1.Canary, p, c int) error {
	if k.routerErr != nil {
		return k.routerErr
	}
	if k.routes != [2]int{p, c} {
		k.weights = append(k.weights, c)
	}
	k.routes = [2]int{p, c}
	return nil
}

func (k *cluster) GetRoutes(context.Context, *v1alpha1.Canary) (int, int, error) {
	return k.routes[0], k.routes[1], nil
}

// checker answers every metric with pass unless fail says otherwise, or
// with what answer returns when it is set.
type checker struct {
	fail   func(step int) bool
	answer func(v1alpha1.CanaryMetric) v1alpha1.MetricResult
	calls  int
}

func (m *checker) Check(_ context.Context, _ *v1alpha1.Canary, metric v1alpha1.CanaryMetric) v1alpha1.MetricResult {
	m.calls++
	if m.answer != nil {
		return m.answer(metric)
	}
	if m.fail != nil && m.fail(m.calls) {
		return v1alpha1.MetricResult{Name: metric.Name, Value: "0.5", Message: "value 0.5 below min 0.99"}
	}
	return v1alpha1.MetricResult{Name: metric.Name, Value: "1", Passed: true}
}

// hooks answers each webhook by name: an error refuses, nil approves.
type hooks struct {
	refuse map[string]error
	calls  []string
	events []string
}

func (h *hooks) Call(_ context.Context, _ *v1alpha1.Canary, hook v1alpha1.CanaryWebhook, phase v1alpha1.CanaryPhase) error {
	h.calls = append(h.calls, hook.Name+"@"+string(phase))
	return h.refuse[hook.Name]
}

func (h *hooks) Event(_ context.Context, _ *v1alpha1.Canary, eventType, message string) {
	h.events = append(h.events, eventType+": "+message)
}

// ledger keeps what it is handed, or fails while err is set.
type ledger struct {
	entries []canary.LedgerEntry
	err     error
}

func (l *ledger) Write(_ context.Context, _ *v1alpha1.Canary, entries []canary.LedgerEntry) (string, error) {
	if l.err != nil {
		return "", l.err
	}
	l.entries = append(l.entries, entries...)
	return "abc123", nil
}

// quarantine records the images it is asked to put back in Git, or fails
// with err when it is set.
type quarantine struct {
	images []string
	err    error
}

func (q *quarantine) Quarantine(_ context.Context, _ *v1alpha1.Canary, images []string, _ string) error {
	q.images = append(q.images, images...)
	return q.err
}

// rig is one Canary and its fake surroundings, stepped by a fresh Engine
// every time from a JSON round trip of the Canary: the state machine keeps
// nothing but the status.
type rig struct {
	t       *testing.T
	c       *v1alpha1.Canary
	k       *cluster
	m       *checker
	h       *hooks
	l       *ledger
	q       *quarantine
	now     time.Time
	results []canary.Result
}

func newRig(t *testing.T, c *v1alpha1.Canary) *rig {
	return &rig{t: t, c: c, k: newCluster(), m: &checker{}, h: &hooks{}, l: &ledger{}, q: &quarantine{},
		now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
}

// step runs one Step and advances the clock to when it asked to be called.
func (r *rig) step() (canary.Result, error) {
	r.t.Helper()
	e, err := canary.New(r.k, r.k, r.m, r.h, canary.WithLedger(r.l), canary.WithGitRollback(r.q))
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := json.Marshal(r.c)
	if err != nil {
		r.t.Fatal(err)
	}
	fresh := &v1alpha1.Canary{}
	if err := json.Unmarshal(b, fresh); err != nil {
		r.t.Fatal(err)
	}
	r.c = fresh
	res, err := e.Step(context.Background(), r.c, r.k.observe(r.now))
	r.results = append(r.results, res)
	r.now = r.now.Add(max(res.RequeueAfter, time.Second))
	return res, err
}

// until steps until the phase is want, at most n steps.
func (r *rig) until(want v1alpha1.CanaryPhase, n int) {
	r.t.Helper()
	for range n {
		if _, err := r.step(); err != nil {
			r.t.Fatalf("step in phase %s: %v", r.c.Status.Phase, err)
		}
		if r.c.Status.Phase == want {
			return
		}
	}
	r.t.Fatalf("phase %s not reached in %d steps; at %s: %s", want, n, r.c.Status.Phase, condition(r.c, v1alpha1.ReadyCondition))
}

// initialized steps a new Canary to Initialized.
func (r *rig) initialized() {
	r.t.Helper()
	r.until(v1alpha1.CanaryPhaseInitialized, 5)
}

func condition(c *v1alpha1.Canary, typ string) string {
	for _, cond := range c.Status.Conditions {
		if cond.Type == typ {
			return fmt.Sprintf("%s/%s: %s", cond.Status, cond.Reason, cond.Message)
		}
	}
	return "<none>"
}

func conditionStatus(c *v1alpha1.Canary, typ string) metav1.ConditionStatus {
	for _, cond := range c.Status.Conditions {
		if cond.Type == typ {
			return cond.Status
		}
	}
	return ""
}

// weighted is a gatewayapi Canary stepping 10 by 10 up to 30.
func weighted() *v1alpha1.Canary {
	return &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "apps", Generation: 1},
		Spec: v1alpha1.CanarySpec{
			Provider:  v1alpha1.RouterGatewayAPI,
			TargetRef: v1alpha1.CanaryTargetRef{Name: "podinfo"},
			Service:   v1alpha1.CanaryService{Port: 9898},
			Analysis: v1alpha1.CanaryAnalysis{
				Interval: "1m", Threshold: 2, StepWeight: 10, MaxWeight: 30,
				Metrics: []v1alpha1.CanaryMetric{{Name: "request-success-rate"}},
			},
			Ledger: &v1alpha1.CanaryLedger{Push: true},
		},
	}
}

// blueGreen is a kubernetes-router Canary judged for 3 iterations.
func blueGreen() *v1alpha1.Canary {
	c := weighted()
	c.Spec.Provider = v1alpha1.RouterKubernetes
	c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight, c.Spec.Analysis.Iterations = 0, 0, 3
	return c
}

func withHooks(c *v1alpha1.Canary, hs ...v1alpha1.CanaryWebhook) *v1alpha1.Canary {
	c.Spec.Analysis.Webhooks = append(c.Spec.Analysis.Webhooks, hs...)
	return c
}
