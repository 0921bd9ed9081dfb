package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestHealthErrorMessage(t *testing.T) {
	err := &HealthError{Timeout: 90 * time.Second, NotReady: []NotReady{
		{Object: ObjMetadata{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}, Status: "InProgress", Message: "Replicas: 0/1"},
		{Object: ObjMetadata{Kind: "ConfigMap", Namespace: "web", Name: "gone"}, Status: "NotFound"},
	}}

	want := "2 object(s) not ready after 1m30s: ConfigMap/web/gone (NotFound); Deployment/web/web (InProgress: Replicas: 0/1)"
	if got := err.Error(); got != want {
		t.Errorf("message = %q\nwant      %q", got, want)
	}
}

func TestHealthErrorOfAWaitEndedByAFailureSaysWhatFailed(t *testing.T) {
	cases := []struct {
		name     string
		notReady []NotReady
		want     string
	}{{
		name: "one failed object",
		notReady: []NotReady{{Object: ObjMetadata{Group: "bitnami.com", Kind: "SealedSecret", Namespace: "apps", Name: "db"},
			Status: "Failed", Message: "Synced is False: no key could decrypt secret (password)"}},
		want: "1 object(s) failed: SealedSecret/apps/db (Failed: Synced is False: no key could decrypt secret (password))",
	}, {
		name: "a failed object among objects still in progress",
		notReady: []NotReady{
			{Object: ObjMetadata{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}, Status: "InProgress", Message: "Replicas: 0/1"},
			{Object: ObjMetadata{Group: "batch", Kind: "Job", Namespace: "web", Name: "migrate"}, Status: "Failed", Message: "Job Failed. failed: 3/1"},
		},
		want: "1 object(s) failed: Job/web/migrate (Failed: Job Failed. failed: 3/1); 1 more not ready yet: Deployment/web/web (InProgress: Replicas: 0/1)",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := &HealthError{Timeout: 5 * time.Minute, NotReady: tc.notReady}
			if got := err.Error(); got != tc.want {
				t.Errorf("message = %q\nwant      %q", got, tc.want)
			}
			if strings.Contains(err.Error(), "after 5m0s") {
				t.Errorf("message %q blames the timeout for a wait a failure ended", err)
			}
		})
	}
}

func TestReady(t *testing.T) {
	deployment := &unstructured.Unstructured{}
	deployment.SetAPIVersion("apps/v1")
	deployment.SetKind("Deployment")
	deployment.SetName("web")
	deployment.SetGeneration(1)
	deployment.Object["spec"] = map[string]any{"replicas": int64(1)}

	if !Ready(configMap(nil)) {
		t.Error("a ConfigMap is not ready")
	}
	if Ready(deployment) {
		t.Error("a Deployment without a status is ready")
	}
}

func TestHealthErrorMessageRoundsTheTimeoutToSeconds(t *testing.T) {
	for timeout, want := range map[time.Duration]string{
		39976769865 * time.Nanosecond: "after 40s:",
		1500 * time.Millisecond:       "after 2s:",
		300 * time.Millisecond:        "after 300ms:",
	} {
		err := &HealthError{Timeout: timeout, NotReady: []NotReady{{Object: ObjMetadata{Kind: "ConfigMap", Name: "a"}, Status: "NotFound"}}}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("timeout %s: message %q does not say %q", timeout, err, want)
		}
	}
}

func TestHealthErrorMessageNamesWhyPodsDoNotRun(t *testing.T) {
	err := &HealthError{Timeout: 30 * time.Second, NotReady: []NotReady{{
		Object: ObjMetadata{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}, Status: "InProgress", Message: "Available: 0/1",
		Pods: []string{"Pod web-1: container web: ImagePullBackOff: Back-off pulling image"},
	}}}

	want := "1 object(s) not ready after 30s: Deployment/web/web (InProgress: Available: 0/1; Pod web-1: container web: ImagePullBackOff: Back-off pulling image)"
	if got := err.Error(); got != want {
		t.Errorf("message = %q\nwant      %q", got, want)
	}
}

func TestPodProblem(t *testing.T) {
	waiting := func(reason, msg string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	}
	pod := func(init, containers []corev1.ContainerState, conds ...corev1.PodCondition) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1"}}
		for i, s := range init {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, corev1.ContainerStatus{Name: fmt.Sprintf("init%d", i), State: s})
		}
		for i, s := range containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: fmt.Sprintf("c%d", i), State: s})
		}
		p.Status.Conditions = conds
		return p
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"a running Pod has no problem", pod(nil, []corev1.ContainerState{running}), ""},
		{"a container being created has no problem", pod(nil, []corev1.ContainerState{waiting("ContainerCreating", "")}), ""},
		{"an image pull back-off is named with its message",
			pod(nil, []corev1.ContainerState{running, waiting("ImagePullBackOff", `Back-off pulling image "r/app:nope"`)}),
			`Pod web-1: container c1: ImagePullBackOff: Back-off pulling image "r/app:nope"`},
		{"an init container comes first",
			pod([]corev1.ContainerState{waiting("CrashLoopBackOff", "back-off 10s")}, []corev1.ContainerState{waiting("PodInitializing", "")}),
			"Pod web-1: container init0: CrashLoopBackOff: back-off 10s"},
		{"a failed container gives its exit code",
			pod(nil, []corev1.ContainerState{{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 2}}}),
			"Pod web-1: container c0: Error (exit code 2)"},
		{"an unschedulable Pod says why",
			pod(nil, nil, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/1 nodes are available"}),
			"Pod web-1: Unschedulable: 0/1 nodes are available"},
		{"a long message is cut",
			pod(nil, []corev1.ContainerState{waiting("ErrImagePull", strings.Repeat("x", 1000))}),
			cut("Pod web-1: container c0: ErrImagePull: " + strings.Repeat("x", 1000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podProblem(tt.pod); got != tt.want {
				t.Errorf("podProblem = %q\nwant        %q", got, tt.want)
			}
			if len(podProblem(tt.pod)) > maxProblemLength+len("…") {
				t.Errorf("problem longer than %d", maxProblemLength)
			}
		})
	}
}

// TestWaitReadsAgainWhenItsDeadlineCutTheLastPoll: a slow API server makes
// the last poll's reads run into the wait's deadline; the error must still
// say why each object is not ready (NotFound), not Unknown.
func TestWaitReadsAgainWhenItsDeadlineCutTheLastPoll(t *testing.T) {
	slow := interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
		return c.Get(ctx, key, obj, opts...)
	}}
	c := fake.NewClientBuilder().WithInterceptorFuncs(slow).Build()
	m := NewManager(c, Options{Poll: time.Millisecond})
	objs := []ObjMetadata{
		{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "b"},
	}
	err := m.Wait(context.Background(), objs, 200*time.Millisecond)
	var he *HealthError
	if !errors.As(err, &he) {
		t.Fatalf("want a *HealthError, got %v", err)
	}
	for _, n := range he.NotReady {
		if n.Status != "NotFound" {
			t.Errorf("%s: status %s (%s), want NotFound", n.Object, n.Status, n.Message)
		}
	}
}

func TestDiscoveryPollIsTheHealthPollAtMost100ms(t *testing.T) {
	for _, tc := range []struct{ health, want time.Duration }{
		{0, 100 * time.Millisecond},
		{time.Second, 100 * time.Millisecond},
		{100 * time.Millisecond, 100 * time.Millisecond},
		{20 * time.Millisecond, 20 * time.Millisecond},
	} {
		if got := discoveryPoll(tc.health); got != tc.want {
			t.Errorf("discoveryPoll(%s) = %s, want %s", tc.health, got, tc.want)
		}
	}
}
