package canary_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flotilla-io/flotilla/internal/canary"
)

func TestDeploymentReadinessEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    appsv1.Deployment
		need bool
		want canary.Readiness
	}{
		{"a primary scaled to zero is ready: it needs no replicas",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-primary", Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0)},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 1}},
			false, canary.Readiness{Ready: true, Message: "Deployment web-primary: 0 replicas available"}},
		{"unset replicas mean one",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 3},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}},
			true, canary.Readiness{Ready: true, Message: "Deployment web: 1 replicas available"}},
		{"unset replicas with none available",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 3},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 1, UpdatedReplicas: 1}},
			true, canary.Readiness{Message: "Deployment web: 0 of 1 replicas available"}},
		{"an exceeded deadline wins over available replicas",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1,
					Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet web-1 has timed out"}}}},
			true, canary.Readiness{Message: "Deployment web exceeded its progress deadline: ReplicaSet web-1 has timed out"}},
		{"a Progressing condition with another reason changes nothing",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1,
					Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "NewReplicaSetAvailable"}}}},
			true, canary.Readiness{Ready: true, Message: "Deployment web: 1 replicas available"}},
		{"an unobserved generation is checked before the replicas",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 5}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 4}},
			true, canary.Readiness{Message: "Deployment web: the rollout of generation 5 is not observed yet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := canary.DeploymentReadiness(&tc.d, tc.need); got != tc.want {
				t.Errorf("DeploymentReadiness = %+v, want %+v", got, tc.want)
			}
		})
	}
}
