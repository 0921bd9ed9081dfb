package canary_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

func TestNextWeight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a       v1alpha1.CanaryAnalysis
		current int
		want    int
	}{
		{"default step of 10", v1alpha1.CanaryAnalysis{}, 0, 10},
		{"stepWeight", v1alpha1.CanaryAnalysis{StepWeight: 25}, 25, 50},
		{"capped at maxWeight", v1alpha1.CanaryAnalysis{StepWeight: 20, MaxWeight: 50}, 40, 50},
		{"stepWeights next", v1alpha1.CanaryAnalysis{StepWeights: []int{1, 5, 25, 50}}, 5, 25},
		{"stepWeights from zero", v1alpha1.CanaryAnalysis{StepWeights: []int{1, 5}}, 0, 1},
		{"stepWeights at the end", v1alpha1.CanaryAnalysis{StepWeights: []int{1, 5}}, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.Canary{Spec: v1alpha1.CanarySpec{Analysis: tc.a}}
			if got := canary.NextWeight(c, tc.current); got != tc.want {
				t.Errorf("NextWeight(%d) = %d, want %d", tc.current, got, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := &v1alpha1.Canary{}
	if canary.Interval(c) != canary.DefaultInterval || canary.Threshold(c) != 5 || canary.ProgressDeadline(c) != canary.DefaultProgressDeadline || canary.MaxWeight(c) != 100 {
		t.Errorf("defaults: %s %d %s %d", canary.Interval(c), canary.Threshold(c), canary.ProgressDeadline(c), canary.MaxWeight(c))
	}
	if !canary.BlueGreen(c) {
		t.Error("an empty provider is the kubernetes router, blue/green")
	}
	c.Spec.Service.Name, c.Spec.TargetRef.Name = "web", "podinfo"
	if got := []string{canary.ApexName(c), canary.PrimaryServiceName(c), canary.CanaryServiceName(c), canary.PrimaryName(c)}; !cmp.Equal(got, []string{"web", "web-primary", "web-canary", "podinfo-primary"}) {
		t.Errorf("names %v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(*v1alpha1.Canary)
		canCheck bool
		want     []string
	}{
		{"weighted is fine", func(*v1alpha1.Canary) {}, true, nil},
		{"metrics without a checker are refused", func(*v1alpha1.Canary) {}, false, []string{"spec.analysis.metrics: this agent has no metric checker"}},
		{"blue/green needs iterations", func(c *v1alpha1.Canary) { c.Spec.Provider = v1alpha1.RouterKubernetes }, true, []string{"spec.analysis.iterations"}},
		{"weights must increase", func(c *v1alpha1.Canary) { c.Spec.Analysis.StepWeights = []int{10, 5} }, true, []string{"spec.analysis.stepWeights: weights must increase"}},
		{"unknown metric without a template", func(c *v1alpha1.Canary) { c.Spec.Analysis.Metrics[0].Name = "latency" }, true, []string{`"latency" is not a built-in metric`}},
		{"webhooks without a client", func(c *v1alpha1.Canary) {
			c.Spec.Analysis.Webhooks = []v1alpha1.CanaryWebhook{{Name: "x", URL: "http://x"}}
		}, true, []string{"spec.analysis.webhooks"}},
		{"only Deployments", func(c *v1alpha1.Canary) { c.Spec.TargetRef.Kind = "StatefulSet" }, true, []string{"spec.targetRef.kind"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := weighted()
			tc.mutate(c)
			err := canary.Validate(c, tc.canCheck, false)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var se *canary.SpecError
			if !errors.As(err, &se) {
				t.Fatalf("Validate = %v, want a *SpecError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want %q in it", err, w)
				}
			}
		})
	}
}

func TestSelectorLabel(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo", "app.kubernetes.io/name": "web"}}}}
	if k, v, err := canary.SelectorLabel(d); err != nil || k != "app.kubernetes.io/name" || v != "web" {
		t.Errorf("SelectorLabel = %s=%s, %v", k, v, err)
	}
	d.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
	var se *canary.SpecError
	if _, _, err := canary.SelectorLabel(d); !errors.As(err, &se) {
		t.Errorf("SelectorLabel without an app label = %v, want a *SpecError", err)
	}
}

func TestDeploymentReadiness(t *testing.T) {
	base := func() *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Generation: 2},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status:     appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*appsv1.Deployment)
		need   bool
		ready  bool
		says   string
	}{
		{"all available", func(*appsv1.Deployment) {}, true, true, "2 replicas available"},
		{"generation not observed", func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }, true, false, "not observed"},
		{"updating", func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }, true, false, "1 of 2 replicas updated"},
		{"old replicas", func(d *appsv1.Deployment) { d.Status.Replicas = 3 }, true, false, "1 old replicas"},
		{"unavailable", func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 }, true, false, "1 of 2 replicas available"},
		{"scaled to zero, canary", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](0) }, true, false, "scaled to zero"},
		{"deadline exceeded", func(d *appsv1.Deployment) {
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "stuck"}}
		}, true, false, "progress deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.mutate(d)
			got := canary.DeploymentReadiness(d, tc.need)
			if got.Ready != tc.ready || !strings.Contains(got.Message, tc.says) {
				t.Errorf("DeploymentReadiness = %+v, want ready %t saying %q", got, tc.ready, tc.says)
			}
		})
	}
}

func TestSpecHashFollowsTemplateAndConfigs(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	a := canary.SpecHash(tpl, map[string]string{"ConfigMap/app": "1"})
	if a != canary.SpecHash(tpl.DeepCopy(), map[string]string{"ConfigMap/app": "1"}) {
		t.Error("the same inputs hash differently")
	}
	if a == canary.SpecHash(tpl, map[string]string{"ConfigMap/app": "2"}) {
		t.Error("a config change does not change the hash")
	}
	tpl.Spec.Containers[0].Image = "app:2"
	if a == canary.SpecHash(tpl, map[string]string{"ConfigMap/app": "1"}) {
		t.Error("an image change does not change the hash")
	}
}
