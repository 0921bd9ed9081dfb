package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func stackAt(rv string) *v1alpha1.Stack {
	return &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", ResourceVersion: rv}}
}

func TestWrittenVersionsBehind(t *testing.T) {
	var w writtenVersions
	if w.behind(stackAt("5")) {
		t.Error("an object never written is never behind")
	}
	w.record(stackAt("10"))
	w.record(stackAt("9")) // a concurrent writer's older version does not move it back
	for _, tc := range []struct {
		name, rv string
		behind   bool
	}{
		{"the cache before the write", "7", true},
		{"the write itself", "10", false},
		{"a later write by someone else", "12", false},
		{"a version that does not compare", "abc", false},
	} {
		if got := w.behind(stackAt(tc.rv)); got != tc.behind {
			t.Errorf("%s (rv %s): behind = %v, want %v", tc.name, tc.rv, got, tc.behind)
		}
	}
	w.forget(client.ObjectKeyFromObject(stackAt("")))
	if w.behind(stackAt("7")) {
		t.Error("a forgotten object is never behind")
	}
}

func TestFailedAlready(t *testing.T) {
	s := stackAt("1")
	s.Generation = 2
	s.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse,
		Reason: v1alpha1.ReasonBuildFailed, Message: "broken", ObservedGeneration: 2}}
	for _, tc := range []struct {
		name, reason, message string
		generation            int64
		want                  bool
	}{
		{"the same failure", v1alpha1.ReasonBuildFailed, "broken", 2, true},
		{"a new message", v1alpha1.ReasonBuildFailed, "broken elsewhere", 2, false},
		{"a new reason", v1alpha1.ReasonApplyFailed, "broken", 2, false},
		{"a new generation", v1alpha1.ReasonBuildFailed, "broken", 3, false},
	} {
		s.Generation = tc.generation
		if got := failedAlready(s, tc.reason, tc.message); got != tc.want {
			t.Errorf("%s: failedAlready = %v, want %v", tc.name, got, tc.want)
		}
	}
	s.Generation = 2
	s.Status.Conditions[0].Status = metav1.ConditionTrue
	if failedAlready(s, v1alpha1.ReasonBuildFailed, "broken") {
		t.Error("a Ready object has not failed")
	}
}

// A created source queues no Stack: it has no artifact yet, and at agent
// start every Stack is queued by its own creation already.
func TestSourceCreationQueuesNoStack(t *testing.T) {
	src := &v1alpha1.GitRepository{Status: v1alpha1.GitRepositoryStatus{Artifact: &v1alpha1.Artifact{Revision: "main@sha1:1"}}}
	if (revisionChanged{}).Create(event.CreateEvent{Object: src}) {
		t.Error("the creation of a source must not queue its Stacks")
	}
}
