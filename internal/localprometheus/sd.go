package localprometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Debian builds Prometheus without Kubernetes service discovery (its 2.42
// refuses kubernetes_sd_configs: "field kubernetes_sd_configs not found in
// type config.ScrapeConfig"). podDiscovery stands in for that one part: an
// HTTP service discovery endpoint (http_sd_configs, which Debian's build
// has) that lists the Pods of a kubeconfig's cluster and gives each target
// the __meta_kubernetes_pod_* labels Prometheus' own role=pod discovery
// gives, so the relabelling that Prometheus applies is the usual one.
type podDiscovery struct {
	pods       func(ctx context.Context, namespace string) ([]corev1.Pod, error)
	namespaces []string
	srv        *http.Server
	url        string
}

// startPodDiscovery serves the Pods of kubeconfig's cluster in namespaces
// (all when empty) on host.
func startPodDiscovery(host, kubeconfig string, namespaces []string) (*podDiscovery, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("prometheus: pod discovery: kubeconfig %s: %w", kubeconfig, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("prometheus: pod discovery: kubeconfig %s: %w", kubeconfig, err)
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	d := &podDiscovery{namespaces: namespaces, pods: func(ctx context.Context, ns string) ([]corev1.Pod, error) {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	}}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("prometheus: pod discovery: %w", err)
	}
	d.url = "http://" + ln.Addr().String() + "/pods"
	d.srv = &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

func (d *podDiscovery) close() error {
	if err := d.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// targetGroup is one entry of Prometheus' HTTP service discovery format.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func (d *podDiscovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	groups := []targetGroup{}
	for _, ns := range d.namespaces {
		pods, err := d.pods(ctx, ns)
		if err != nil {
			// Prometheus keeps the last targets on an error answer.
			http.Error(w, "listing pods: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		for i := range pods {
			groups = append(groups, podTargets(&pods[i])...)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(groups)
}

// podTargets are the targets of one Pod as role=pod discovery makes them:
// one per declared container port, or the Pod's IP alone when it declares
// none. A Pod with no IP yet has none.
func podTargets(p *corev1.Pod) []targetGroup {
	if p.Status.PodIP == "" {
		return nil
	}
	labels := map[string]string{
		"__meta_kubernetes_namespace":     p.Namespace,
		"__meta_kubernetes_pod_name":      p.Name,
		"__meta_kubernetes_pod_ip":        p.Status.PodIP,
		"__meta_kubernetes_pod_phase":     string(p.Status.Phase),
		"__meta_kubernetes_pod_uid":       string(p.UID),
		"__meta_kubernetes_pod_ready":     strconv.FormatBool(podReady(p)),
		"__meta_kubernetes_pod_node_name": p.Spec.NodeName,
	}
	for k, v := range p.Labels {
		labels["__meta_kubernetes_pod_label_"+sanitize(k)] = v
		labels["__meta_kubernetes_pod_labelpresent_"+sanitize(k)] = "true"
	}
	for k, v := range p.Annotations {
		labels["__meta_kubernetes_pod_annotation_"+sanitize(k)] = v
		labels["__meta_kubernetes_pod_annotationpresent_"+sanitize(k)] = "true"
	}
	var groups []targetGroup
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			l := clone(labels)
			l["__meta_kubernetes_pod_container_name"] = c.Name
			l["__meta_kubernetes_pod_container_port_name"] = port.Name
			l["__meta_kubernetes_pod_container_port_number"] = strconv.Itoa(int(port.ContainerPort))
			l["__meta_kubernetes_pod_container_port_protocol"] = string(port.Protocol)
			addr := net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(port.ContainerPort)))
			groups = append(groups, targetGroup{Targets: []string{addr}, Labels: l})
		}
	}
	if len(groups) == 0 {
		groups = append(groups, targetGroup{Targets: []string{p.Status.PodIP}, Labels: labels})
	}
	return groups
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// sanitize makes a Kubernetes label or annotation name a Prometheus label
// name, as Prometheus' discovery does (prometheus.io/scrape becomes
// prometheus_io_scrape).
func sanitize(s string) string { return invalidLabelChars.ReplaceAllString(s, "_") }

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}
