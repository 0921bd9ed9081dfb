package localprometheus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// discoveryOf serves pods by namespace through a podDiscovery, as
// startPodDiscovery does with a real cluster's.
func discoveryOf(t *testing.T, namespaces []string, pods map[string][]corev1.Pod, fail error) *httptest.Server {
	t.Helper()
	d := &podDiscovery{namespaces: namespaces, pods: func(_ context.Context, ns string) ([]corev1.Pod, error) {
		if fail != nil {
			return nil, fail
		}
		return pods[ns], nil
	}}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return srv
}

func runningPod(ns, name, ip string, ports ...int32) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{NodeName: "flotilla-node", Containers: []corev1.Container{{Name: "app"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
	for _, port := range ports {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: port, Protocol: corev1.ProtocolTCP})
	}
	return p
}

// getGroups GETs url and decodes the HTTP service discovery answer.
func getGroups(t *testing.T, url string) (int, string, []targetGroup) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var groups []targetGroup
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &groups); err != nil {
			t.Fatalf("answer %q is not target groups: %v", body, err)
		}
	}
	return resp.StatusCode, string(body), groups
}

func TestPodDiscoveryServesTheTargetsOfEveryNamespace(t *testing.T) {
	srv := discoveryOf(t, []string{"shop", "billing"}, map[string][]corev1.Pod{
		"shop":    {runningPod("shop", "web-1", "10.244.0.5", 8080), runningPod("shop", "web-2", "")},
		"billing": {runningPod("billing", "api-1", "10.244.0.9")},
		"other":   {runningPod("other", "hidden", "10.244.0.11", 80)},
	}, nil)
	code, body, groups := getGroups(t, srv.URL+"/pods")
	if code != http.StatusOK {
		t.Fatalf("GET = %d %s", code, body)
	}
	var targets []string
	for _, g := range groups {
		targets = append(targets, g.Targets...)
	}
	if diff := cmp.Diff([]string{"10.244.0.5:8080", "10.244.0.9"}, targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	web := groups[0].Labels
	for name, want := range map[string]string{
		"__meta_kubernetes_pod_uid":                     "uid-web-1",
		"__meta_kubernetes_pod_ip":                      "10.244.0.5",
		"__meta_kubernetes_pod_node_name":               "flotilla-node",
		"__meta_kubernetes_pod_ready":                   "false",
		"__meta_kubernetes_pod_container_name":          "app",
		"__meta_kubernetes_pod_container_port_number":   "8080",
		"__meta_kubernetes_pod_container_port_protocol": "TCP",
	} {
		if web[name] != want {
			t.Errorf("label %s = %q, want %q", name, web[name], want)
		}
	}
}

func TestPodDiscoveryAnswersAnEmptyListNotNull(t *testing.T) {
	srv := discoveryOf(t, []string{""}, nil, nil)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.TrimSpace(string(body)) != "[]" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("answer = %q (%s), want [] as JSON: Prometheus refuses null", body, resp.Header.Get("Content-Type"))
	}
}

// TestPodDiscoveryFailsWhenListingFails: an error answer makes Prometheus
// keep the targets it had, where an empty list would drop them all.
func TestPodDiscoveryFailsWhenListingFails(t *testing.T) {
	srv := discoveryOf(t, []string{"shop"}, nil, errors.New("the server is currently unable to handle the request"))
	code, body, _ := getGroups(t, srv.URL)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "unable to handle the request") {
		t.Errorf("GET = %d %q, want 503 with the listing error", code, body)
	}
}

func TestStartPodDiscoveryRefusesABadKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := startPodDiscovery("127.0.0.1", path, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("startPodDiscovery = %v, want an error naming %s", err, path)
	}
}

func TestPodReady(t *testing.T) {
	tests := []struct {
		name       string
		conditions []corev1.PodCondition
		want       bool
	}{
		{"no-conditions", nil, false},
		{"ready", []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}}, true},
		{"not-ready", []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}, false},
		{"scheduled-only", []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}, false},
	}
	for _, tt := range tests {
		p := &corev1.Pod{Status: corev1.PodStatus{Conditions: tt.conditions}}
		if got := podReady(p); got != tt.want {
			t.Errorf("%s: podReady = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"app":                    "app",
		"prometheus.io/scrape":   "prometheus_io_scrape",
		"app.kubernetes.io/name": "app_kubernetes_io_name",
		"a-b c":                  "a_b_c",
		"UPPER_case9":            "UPPER_case9",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPodTargetsDoNotShareLabelMaps(t *testing.T) {
	p := runningPod("shop", "web-1", "10.244.0.5", 8080, 9090)
	groups := podTargets(&p)
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	if groups[0].Labels["__meta_kubernetes_pod_container_port_number"] == groups[1].Labels["__meta_kubernetes_pod_container_port_number"] {
		t.Error("the two ports' targets share one label map")
	}
	if got := clone(map[string]string{"a": "1"}); got["a"] != "1" || len(got) != 1 {
		t.Errorf("clone = %v", got)
	}
}
