package main

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestPauseDeployment(t *testing.T) {
	d := pauseDeployment()
	c := d.Spec.Template.Spec.Containers[0]
	if *d.Spec.Replicas != 2 || c.Image != "flotilla.local/pause:test" || c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("deployment: %d replicas of %s, pull %s", *d.Spec.Replicas, c.Image, c.ImagePullPolicy)
	}
	if d.Spec.Template.Annotations[rolloutAnnotation] == "" {
		t.Error("no rollout annotation to change")
	}
}

func TestRolledOut(t *testing.T) {
	available := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
	done := appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, Conditions: available}
	tests := []struct {
		name   string
		status func(s *appsv1.DeploymentStatus)
		want   bool
	}{
		{name: "every-replica-updated-and-available", status: func(*appsv1.DeploymentStatus) {}, want: true},
		{name: "spec-not-yet-observed", status: func(s *appsv1.DeploymentStatus) { s.ObservedGeneration = 1 }},
		{name: "an-old-pod-left", status: func(s *appsv1.DeploymentStatus) { s.Replicas = 3 }},
		{name: "one-replica-not-updated", status: func(s *appsv1.DeploymentStatus) { s.UpdatedReplicas = 1 }},
		{name: "one-replica-unavailable", status: func(s *appsv1.DeploymentStatus) { s.AvailableReplicas = 1 }},
		{name: "available-condition-false", status: func(s *appsv1.DeploymentStatus) {
			s.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}}
		}},
		{name: "no-conditions-yet", status: func(s *appsv1.DeploymentStatus) { s.Conditions = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := pauseDeployment()
			d.Generation = 2
			d.Status = *done.DeepCopy()
			tt.status(&d.Status)
			if got := rolledOut(d); got != tt.want {
				t.Errorf("rolledOut = %v, want %v", got, tt.want)
			}
		})
	}
}
