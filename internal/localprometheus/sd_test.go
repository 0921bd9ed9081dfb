package localprometheus

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodTargets(t *testing.T) {
	pod := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f8c6b5-x2k4z", Namespace: "shop",
				Labels:      map[string]string{"app": "web", "app.kubernetes.io/name": "web"},
				Annotations: map[string]string{"prometheus.io/scrape": "true"}},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7"},
		}
		mutate(p)
		return p
	}
	tests := []struct {
		name        string
		pod         *corev1.Pod
		wantTargets []string
	}{
		{name: "no-ip-yet-no-target", pod: pod(func(p *corev1.Pod) { p.Status.PodIP = "" })},
		{name: "no-declared-port-the-ip-alone", pod: pod(func(*corev1.Pod) {}), wantTargets: []string{"10.0.0.7"}},
		{
			name: "one-target-per-declared-port",
			pod: pod(func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "admin", ContainerPort: 9090}}
			}),
			wantTargets: []string{"10.0.0.7:8080", "10.0.0.7:9090"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups := podTargets(tt.pod)
			var targets []string
			for _, g := range groups {
				targets = append(targets, g.Targets...)
				for name, want := range map[string]string{
					"__meta_kubernetes_namespace":                           "shop",
					"__meta_kubernetes_pod_name":                            "web-7d9f8c6b5-x2k4z",
					"__meta_kubernetes_pod_phase":                           "Running",
					"__meta_kubernetes_pod_label_app":                       "web",
					"__meta_kubernetes_pod_label_app_kubernetes_io_name":    "web",
					"__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
				} {
					if g.Labels[name] != want {
						t.Errorf("label %s = %q, want %q", name, g.Labels[name], want)
					}
				}
			}
			if diff := cmp.Diff(tt.wantTargets, targets); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}
