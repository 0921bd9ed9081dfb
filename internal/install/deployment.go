package install

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Ports and paths of the agent (see `flotilla agent --help`).
const (
	healthPort  = 8081
	metricsPort = 8080
	dataDir     = "/data"
	// runAsUser is the distroless "nonroot" user the image runs as.
	runAsUser = 65532
)

// deployment returns the agent's Deployment: leader election on, probes on
// the health port, requests and limits, and a restricted security context
// (non-root, read-only root filesystem, no privilege escalation, no
// capabilities, the runtime's default seccomp profile).
func (o Options) deployment() *appsv1.Deployment {
	selector := map[string]string{NameLabel: AgentName}
	return &appsv1.Deployment{
		TypeMeta:   typeMeta(appsv1.SchemeGroupVersion, "Deployment"),
		ObjectMeta: metav1.ObjectMeta{Name: AgentName, Namespace: o.Namespace, Labels: selector},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(o.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: o.labels(selector)},
				Spec: corev1.PodSpec{
					ServiceAccountName:            AgentName,
					TerminationGracePeriodSeconds: ptr.To[int64](10),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](runAsUser),
						RunAsGroup:     ptr.To[int64](runAsUser),
						FSGroup:        ptr.To[int64](runAsUser),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{o.container()},
					Volumes: []corev1.Volume{
						{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
}

func (o Options) container() corev1.Container {
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("healthz")}},
			PeriodSeconds: period, TimeoutSeconds: 5, FailureThreshold: 3,
		}
	}
	return corev1.Container{
		Name:  "agent",
		Image: o.Image,
		Args: []string{
			"agent",
			"--data-dir=" + dataDir,
			fmt.Sprintf("--health-addr=:%d", healthPort),
			fmt.Sprintf("--metrics-addr=:%d", metricsPort),
			"--leader-elect",
			"--leader-election-namespace=" + o.Namespace,
			"--log-format=json",
		},
		Ports: []corev1.ContainerPort{
			{Name: "http-metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP},
			{Name: "healthz", ContainerPort: healthPort, Protocol: corev1.ProtocolTCP},
		},
		LivenessProbe:  probe("/healthz", 20),
		ReadinessProbe: probe("/readyz", 10),
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr.To(true),
			ReadOnlyRootFilesystem:   ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "data", MountPath: dataDir},
			{Name: "tmp", MountPath: "/tmp"},
		},
	}
}
