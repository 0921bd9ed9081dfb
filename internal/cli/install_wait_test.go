package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// availableAgent is the agent's Deployment in ns, rolled out and Available.
func availableAgent(ns string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: agentName, Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(1))},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			}},
	}
}

func TestWaitAgentReportsTheAvailableDeployment(t *testing.T) {
	c := newFakeClient(t, availableAgent("flotilla-system"))
	var out bytes.Buffer
	if err := waitAgent(t.Context(), c, "flotilla-system", time.Minute, &out); err != nil {
		t.Fatal(err)
	}
	want := "◎ waiting for Deployment flotilla-system/flotilla-agent to be Available\n" +
		"Deployment/flotilla-system/flotilla-agent is Available\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestWaitAgentNamesWhatToLookAt(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out bytes.Buffer
	err := waitAgent(ctx, newFakeClient(t), "team-a", time.Minute, &out)
	want := "the agent did not become available (see `kubectl -n team-a describe deployment flotilla-agent`): "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("waitAgent = %v, want it to start with %q", err, want)
	}
	if strings.Contains(out.String(), "is Available") {
		t.Errorf("a failed wait printed success: %q", out.String())
	}
}
