package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// stateConds are a Ready, a Reconciling and a Stalled condition and one
// the verbs do not read.
func stateConds() []metav1.Condition {
	return []metav1.Condition{
		{Type: "Promoted", Status: metav1.ConditionTrue, Reason: "P"},
		{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: "Failed", Message: "ready message", ObservedGeneration: 3},
		{Type: v1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: "Progressing", Message: "reconciling message"},
		{Type: v1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: "Stalled", Message: "stalled message"},
	}
}

func TestStateOf(t *testing.T) {
	meta := metav1.ObjectMeta{Namespace: "ns", Name: "x", Generation: 3}
	handled := v1alpha1.ReconcileRequestStatus{LastHandledReconcileAt: "at"}
	cases := []struct {
		name string
		obj  client.Object
		want objectState
	}{
		{"a Stack: applied revision", &v1alpha1.Stack{ObjectMeta: meta, Spec: v1alpha1.StackSpec{Suspend: true},
			Status: v1alpha1.StackStatus{ObservedGeneration: 2, LastAppliedRevision: revMain, Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 2, Suspended: true, Revision: revMain, LastHandled: "at"}},
		{"a GitRepository: the artifact's revision", &v1alpha1.GitRepository{ObjectMeta: meta,
			Status: v1alpha1.GitRepositoryStatus{ObservedGeneration: 3, Artifact: &v1alpha1.Artifact{Revision: revTag}, Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 3, Revision: revTag, LastHandled: "at"}},
		{"a GitRepository before its first artifact", &v1alpha1.GitRepository{ObjectMeta: meta, Spec: v1alpha1.GitRepositorySpec{Suspend: true},
			Status: v1alpha1.GitRepositoryStatus{Conditions: stateConds()}},
			objectState{Generation: 3, Suspended: true}},
		{"an ImageRepository: the tag list's digest", &v1alpha1.ImageRepository{ObjectMeta: meta, Spec: v1alpha1.ImageRepositorySpec{Suspend: true},
			Status: v1alpha1.ImageRepositoryStatus{ObservedGeneration: 1, LastScanResult: &v1alpha1.ScanResult{Revision: "sha256:ab"}, Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 1, Suspended: true, Revision: "sha256:ab", LastHandled: "at"}},
		{"an ImagePolicy: the chosen image", &v1alpha1.ImagePolicy{ObjectMeta: meta,
			Status: v1alpha1.ImagePolicyStatus{ObservedGeneration: 3, LatestRef: &v1alpha1.ImageRef{Name: "ghcr.io/podinfo", Tag: "6.1.0", Digest: "sha256:cd"}, Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 3, Revision: "ghcr.io/podinfo:6.1.0@sha256:cd", LastHandled: "at"}},
		{"an ImagePolicy that chose nothing", &v1alpha1.ImagePolicy{ObjectMeta: meta, Status: v1alpha1.ImagePolicyStatus{Conditions: stateConds()}},
			objectState{Generation: 3}},
		{"an ImageUpdate: the commit pushed", &v1alpha1.ImageUpdate{ObjectMeta: meta, Spec: v1alpha1.ImageUpdateSpec{Suspend: true},
			Status: v1alpha1.ImageUpdateStatus{ObservedGeneration: 3, LastPushCommit: "0f9e8d7", Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 3, Suspended: true, Revision: "0f9e8d7", LastHandled: "at"}},
		{"a Provider", &v1alpha1.Provider{ObjectMeta: meta, Spec: v1alpha1.ProviderSpec{Suspend: true},
			Status: v1alpha1.ProviderStatus{ObservedGeneration: 3, Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 3, Suspended: true, LastHandled: "at"}},
		{"an Alert", &v1alpha1.Alert{ObjectMeta: meta,
			Status: v1alpha1.AlertStatus{ObservedGeneration: 2, Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 2, LastHandled: "at"}},
		{"a Receiver: its webhook path", &v1alpha1.Receiver{ObjectMeta: meta,
			Status: v1alpha1.ReceiverStatus{ObservedGeneration: 3, WebhookPath: "/hook/ab12", Conditions: stateConds(), ReconcileRequestStatus: handled}},
			objectState{Generation: 3, ObservedGeneration: 3, Path: "/hook/ab12", LastHandled: "at"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := stateOf(tc.obj)
			conds := stateConds()
			tc.want.Ready, tc.want.Reconciling, tc.want.Stalled = &conds[1], &conds[2], &conds[3]
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stateOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateOfAnotherKindIsEmpty(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x", Generation: 4}}
	if diff := cmp.Diff(objectState{Generation: 4}, stateOf(cm)); diff != "" {
		t.Errorf("stateOf(ConfigMap) (-want +got):\n%s", diff)
	}
}

func TestObjectStateConditionsForReadiness(t *testing.T) {
	ready := metav1.Condition{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: "Failed", Message: "m", ObservedGeneration: 2}
	stalled := metav1.Condition{Type: v1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: "BadSpec", Message: "spec.path is absolute", ObservedGeneration: 2}
	reconciling := metav1.Condition{Type: v1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: "Progressing"}
	cases := []struct {
		name      string
		st        objectState
		wantConds []metav1.Condition
		wantState conditions.State
	}{
		{"no condition yet", objectState{Generation: 2}, nil, conditions.StateProgressing},
		{"Ready False alone is a failure", objectState{Generation: 2, Ready: &ready}, []metav1.Condition{ready}, conditions.StateFailed},
		{"Stalled wins and Reconciling is left out", objectState{Generation: 2, Ready: &ready, Stalled: &stalled, Reconciling: &reconciling},
			[]metav1.Condition{ready, stalled}, conditions.StateStalled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantConds, tc.st.GetConditions()); diff != "" {
				t.Errorf("GetConditions (-want +got):\n%s", diff)
			}
			if tc.st.GetGeneration() != 2 {
				t.Errorf("GetGeneration = %d, want 2", tc.st.GetGeneration())
			}
			if got := conditions.ReadinessOf(tc.st).State; got != tc.wantState {
				t.Errorf("ReadinessOf = %v, want %v", got, tc.wantState)
			}
		})
	}
}

// TestRevisionColumn: a Receiver's REVISION column is its webhook path, in
// full; any other kind shows its revision, short.
func TestRevisionColumn(t *testing.T) {
	receiver := GetEntry{Kind: v1alpha1.ReceiverKind, Path: "/hook/0123456789abcdef0123456789abcdef"}
	stack := GetEntry{Kind: v1alpha1.StackKind, Revision: revMain}
	if got := revisionHeader([]GetEntry{receiver}); got != "PATH" {
		t.Errorf("revisionHeader(Receivers) = %q, want PATH", got)
	}
	for _, entries := range [][]GetEntry{{stack}, nil} {
		if got := revisionHeader(entries); got != "REVISION" {
			t.Errorf("revisionHeader(%v) = %q, want REVISION", entries, got)
		}
	}
	if got := revisionCell(receiver); got != receiver.Path {
		t.Errorf("revisionCell(Receiver) = %q, want the path in full", got)
	}
	if got := revisionCell(stack); got != "main@sha1:1a2b3c4d" {
		t.Errorf("revisionCell(Stack) = %q, want the short revision", got)
	}
}
