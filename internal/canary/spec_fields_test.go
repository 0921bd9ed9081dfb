package canary_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

func TestIntervalFallsBackOnWhatIsNotAPositiveDuration(t *testing.T) {
	for _, tc := range []struct {
		interval string
		want     time.Duration
	}{
		{"", canary.DefaultInterval},
		{"30s", 30 * time.Second},
		{"1m30s", 90 * time.Second},
		{"0s", canary.DefaultInterval},
		{"-1m", canary.DefaultInterval},
		{"every minute", canary.DefaultInterval},
		{"60", canary.DefaultInterval},
	} {
		c := &v1alpha1.Canary{Spec: v1alpha1.CanarySpec{Analysis: v1alpha1.CanaryAnalysis{Interval: tc.interval}}}
		if got := canary.Interval(c); got != tc.want {
			t.Errorf("Interval(%q) = %s, want %s", tc.interval, got, tc.want)
		}
	}
}

func TestThresholdAndProgressDeadlineDefaults(t *testing.T) {
	for _, tc := range []struct {
		name         string
		threshold    int
		deadline     *int32
		wantFailures int
		wantDeadline time.Duration
	}{
		{"unset", 0, nil, canary.DefaultThreshold, canary.DefaultProgressDeadline},
		{"set", 3, ptr.To[int32](120), 3, 2 * time.Minute},
		{"negative threshold and zero deadline", -2, ptr.To[int32](0), canary.DefaultThreshold, canary.DefaultProgressDeadline},
		{"negative deadline", 1, ptr.To[int32](-60), 1, canary.DefaultProgressDeadline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.Canary{Spec: v1alpha1.CanarySpec{ProgressDeadlineSeconds: tc.deadline, Analysis: v1alpha1.CanaryAnalysis{Threshold: tc.threshold}}}
			if got := canary.Threshold(c); got != tc.wantFailures {
				t.Errorf("Threshold = %d, want %d", got, tc.wantFailures)
			}
			if got := canary.ProgressDeadline(c); got != tc.wantDeadline {
				t.Errorf("ProgressDeadline = %s, want %s", got, tc.wantDeadline)
			}
		})
	}
}

func TestBlueGreenIsTheKubernetesRouterOnly(t *testing.T) {
	for provider, want := range map[string]bool{"": true, v1alpha1.RouterKubernetes: true, v1alpha1.RouterGatewayAPI: false} {
		c := &v1alpha1.Canary{Spec: v1alpha1.CanarySpec{Provider: provider}}
		if got := canary.BlueGreen(c); got != want {
			t.Errorf("BlueGreen(provider %q) = %t, want %t", provider, got, want)
		}
	}
}

func TestMaxWeightAndNextWeightEdges(t *testing.T) {
	for _, tc := range []struct {
		name     string
		a        v1alpha1.CanaryAnalysis
		wantMax  int
		from     int
		wantNext int
	}{
		{"the last stepWeight is the maximum, not maxWeight", v1alpha1.CanaryAnalysis{StepWeights: []int{5, 40}, MaxWeight: 90}, 40, 40, 40},
		{"a step past the maximum stops at it", v1alpha1.CanaryAnalysis{StepWeight: 30, MaxWeight: 50}, 50, 30, 50},
		{"from between two stepWeights to the next", v1alpha1.CanaryAnalysis{StepWeights: []int{10, 20, 40}}, 40, 15, 20},
		{"from above every stepWeight to the last", v1alpha1.CanaryAnalysis{StepWeights: []int{10, 20}}, 20, 35, 20},
		{"the default step from zero", v1alpha1.CanaryAnalysis{}, canary.DefaultMaxWeight, 0, canary.DefaultStepWeight},
		{"the default maximum caps the default step", v1alpha1.CanaryAnalysis{}, canary.DefaultMaxWeight, 95, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.Canary{Spec: v1alpha1.CanarySpec{Analysis: tc.a}}
			if got := canary.MaxWeight(c); got != tc.wantMax {
				t.Errorf("MaxWeight = %d, want %d", got, tc.wantMax)
			}
			if got := canary.NextWeight(c, tc.from); got != tc.wantNext {
				t.Errorf("NextWeight(%d) = %d, want %d", tc.from, got, tc.wantNext)
			}
		})
	}
}

func TestSpecErrorReadsFieldThenReason(t *testing.T) {
	err := error(&canary.SpecError{Field: "spec.analysis.iterations", Reason: "set it"})
	if err.Error() != "spec.analysis.iterations: set it" {
		t.Errorf("Error() = %q", err)
	}
}

// validateFields returns the fields Validate refuses, in order.
func validateFields(err error) []string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []string
	for _, e := range errs {
		var se *canary.SpecError
		if errors.As(e, &se) {
			out = append(out, se.Field)
		}
	}
	return out
}

func TestValidateFieldByField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*v1alpha1.Canary)
		want   []string
	}{
		{"an explicit Deployment kind", func(c *v1alpha1.Canary) { c.Spec.TargetRef.Kind = "Deployment" }, nil},
		{"blue/green skipping analysis needs no iterations", func(c *v1alpha1.Canary) {
			c.Spec.Provider, c.Spec.SkipAnalysis = v1alpha1.RouterKubernetes, true
		}, nil},
		{"blue/green with iterations", func(c *v1alpha1.Canary) {
			c.Spec.Provider, c.Spec.Analysis.Iterations = v1alpha1.RouterKubernetes, 5
		}, nil},
		{"a templated metric of any name", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.Metrics = []v1alpha1.CanaryMetric{{Name: "latency-p99", TemplateRef: &v1alpha1.CrossNamespaceObjectReference{Name: "p99"}}}
		}, nil},
		{"the built-in request-duration", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.Metrics = []v1alpha1.CanaryMetric{{Name: "request-duration"}}
		}, nil},
		{"weights out of range are named by index", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.StepWeights = []int{0, 50, 101}
		}, []string{"spec.analysis.stepWeights[0]", "spec.analysis.stepWeights[2]"}},
		{"equal weights do not increase", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.StepWeights = []int{10, 10, 20}
		}, []string{"spec.analysis.stepWeights"}},
		{"decreasing weights are reported once", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.StepWeights = []int{50, 40, 30}
		}, []string{"spec.analysis.stepWeights"}},
		{"the second unknown metric is named by its index", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.Metrics = []v1alpha1.CanaryMetric{{Name: "request-success-rate"}, {Name: "latency"}}
		}, []string{"spec.analysis.metrics[1]"}},
		{"every problem at once, in order", func(c *v1alpha1.Canary) {
			c.Spec.TargetRef.Kind = "DaemonSet"
			c.Spec.Provider = v1alpha1.RouterKubernetes
			c.Spec.Analysis.StepWeights = []int{20, 10}
			c.Spec.Analysis.Metrics = []v1alpha1.CanaryMetric{{Name: "latency"}}
			c.Spec.Analysis.Webhooks = []v1alpha1.CanaryWebhook{{Name: "gate", URL: "ftp://gate.test/"}}
		}, []string{"spec.targetRef.kind", "spec.analysis.iterations", "spec.analysis.stepWeights", "spec.analysis.metrics[0]", "spec.analysis.webhooks[0].url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := weighted()
			tc.mutate(c)
			err := canary.Validate(c, true, true)
			if diff := cmp.Diff(tc.want, validateFields(err)); diff != "" {
				t.Errorf("fields refused (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

// An agent without a metric checker or a webhook client refuses a Canary
// that needs one, and accepts one that does not.
func TestValidateRefusesWhatTheAgentCannotRun(t *testing.T) {
	plain := weighted()
	plain.Spec.Analysis.Metrics = nil
	if err := canary.Validate(plain, false, false); err != nil {
		t.Errorf("a Canary without metrics or webhooks on a bare agent: %v", err)
	}
	both := withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "gate", URL: "http://gate.test/"})
	err := canary.Validate(both, false, false)
	if diff := cmp.Diff([]string{"spec.analysis.metrics", "spec.analysis.webhooks"}, validateFields(err)); diff != "" {
		t.Errorf("fields refused (-want +got):\n%s", diff)
	}
	if err == nil || !strings.Contains(err.Error(), "rather than pass gates it did not ask") {
		t.Errorf("error %v, want it to say why the webhooks are refused", err)
	}
}
