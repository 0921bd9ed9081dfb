package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

func TestDeliveryCanariesWithHistoryAndImageAutomation(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	ctx := context.Background()
	c := envA.Client
	cn := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: v1alpha1.CanarySpec{
			TargetRef: v1alpha1.CanaryTargetRef{Name: "web"},
			Service:   v1alpha1.CanaryService{Port: 80},
			Analysis:  v1alpha1.CanaryAnalysis{Interval: "1m", StepWeight: 10, MaxWeight: 50},
		},
	}
	if err := c.Create(ctx, cn); err != nil {
		t.Fatal(err)
	}
	setCanary := func(phase v1alpha1.CanaryPhase, weight int) {
		t.Helper()
		cn.Status.Phase, cn.Status.CanaryWeight = phase, weight
		cn.Status.CanaryImages = []string{"ghcr.io/example/web:1.1.0"}
		cn.Status.LastMetrics = []v1alpha1.MetricResult{{Name: "request-success-rate", Value: "99.5", Passed: true}, {Name: "latency", Passed: false, Message: "no value"}}
		if err := c.Status().Update(ctx, cn); err != nil {
			t.Fatal(err)
		}
	}
	policy := &v1alpha1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: v1alpha1.ImagePolicySpec{
			ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: "web"},
			Policy:             v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: ">=1.0.0"}},
		},
	}
	update := &v1alpha1.ImageUpdate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: v1alpha1.ImageUpdateSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Interval:  metav1.Duration{Duration: time.Minute},
			Git: v1alpha1.GitUpdateSpec{
				Checkout: &v1alpha1.GitCheckoutSpec{Ref: v1alpha1.GitRepositoryRef{Branch: "main"}},
				Commit:   v1alpha1.CommitSpec{Author: v1alpha1.CommitUser{Name: "Flotilla", Email: "flotilla@example.com"}},
			},
		},
	}
	if err := c.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, update); err != nil {
		t.Fatal(err)
	}
	policy.Status.LatestRef = &v1alpha1.ImageRef{Name: "ghcr.io/example/web", Tag: "1.1.0"}
	policy.Status.ObservedPreviousRef = &v1alpha1.ImageRef{Name: "ghcr.io/example/web", Tag: "1.0.0"}
	policy.Status.QuarantinedTags = []v1alpha1.QuarantinedTag{{Tag: "1.0.1", Canary: ns + "/web", Time: metav1.Now()}}
	policy.Status.Conditions = []metav1.Condition{readyCondition(metav1.ConditionTrue, "Succeeded", "chose 1.1.0")}
	if err := c.Status().Update(ctx, policy); err != nil {
		t.Fatal(err)
	}
	dir, hashes := fleetRepo(t)
	pushed := metav1.NewTime(time.Now().Truncate(time.Second))
	update.Status.LastPushCommit, update.Status.LastPushTime = hashes[1], &pushed
	if err := c.Status().Update(ctx, update); err != nil {
		t.Fatal(err)
	}

	setCanary(v1alpha1.CanaryPhaseProgressing, 10)
	s, ts := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA)}, Repo: dir})
	waitFor(t, "the canary at weight 10", func() (bool, string) {
		d := s.Delivery()
		return len(d.Canaries) == 1 && d.Canaries[0].Weight == 10, fmt.Sprintf("%+v", d.Canaries)
	})
	setCanary(v1alpha1.CanaryPhaseProgressing, 20)
	waitFor(t, "the canary at weight 20", func() (bool, string) {
		d := s.Delivery()
		return len(d.Canaries) == 1 && d.Canaries[0].Weight == 20, fmt.Sprintf("%+v", d.Canaries)
	})
	waitFor(t, "the cluster's counts", func() (bool, string) {
		cl, _ := clusterOf(s.Fleet(), "prod")
		return cl.Canaries == 1 && cl.ImageUpdates == 1, fmt.Sprintf("%+v", cl)
	})

	var d Delivery
	getJSON(t, ts.Client(), ts.URL+"/api/delivery", http.StatusOK, &d)
	wantCanary := CanaryRow{
		Cluster: "prod", Namespace: ns, Name: "web", Phase: "Progressing", Weight: 20,
		Images:  []string{"ghcr.io/example/web:1.1.0"},
		Metrics: []Metric{{Name: "request-success-rate", Value: "99.5", OK: true}, {Name: "latency", Message: "no value"}},
		History: []WeightPoint{{Weight: 10, Phase: "Progressing"}, {Weight: 20, Phase: "Progressing"}},
	}
	if diff := cmp.Diff([]CanaryRow{wantCanary}, d.Canaries, cmpopts.IgnoreFields(WeightPoint{}, "Time")); diff != "" {
		t.Errorf("canaries (-want +got):\n%s", diff)
	}
	wantPolicy := ImagePolicyRow{Cluster: "prod", Namespace: ns, Name: "web", Image: "ghcr.io/example/web", Tag: "1.1.0", Previous: "1.0.0",
		Ready: "True", Message: "chose 1.1.0", Quarantined: []string{"1.0.1"}}
	if diff := cmp.Diff([]ImagePolicyRow{wantPolicy}, d.ImagePolicies); diff != "" {
		t.Errorf("image policies (-want +got):\n%s", diff)
	}
	at := pushed.UTC()
	wantUpdate := ImageUpdateRow{Cluster: "prod", Namespace: ns, Name: "fleet", Ready: "Unknown", LastCommit: hashes[1], LastPush: &at, CommitMessage: "docs: a readme"}
	if diff := cmp.Diff([]ImageUpdateRow{wantUpdate}, d.ImageUpdates); diff != "" {
		t.Errorf("image updates (-want +got):\n%s", diff)
	}
}

func TestCanaryHistoryKeepsChangesOnlyAndAtMostAHundred(t *testing.T) {
	h := newCanaryHistory()
	cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	for i := range 150 {
		cn.Status.CanaryWeight = i
		h.record("prod", cn, false)
		h.record("prod", cn, false) // no change: no point
	}
	pts := h.of("prod", "ns", "web")
	if len(pts) != maxHistory || pts[0].Weight != 50 || pts[len(pts)-1].Weight != 149 {
		t.Errorf("history has %d points from weight %d to %d: want the last %d, 50 to 149", len(pts), pts[0].Weight, pts[len(pts)-1].Weight, maxHistory)
	}
	h.record("prod", cn, true)
	if pts := h.of("prod", "ns", "web"); len(pts) != 0 {
		t.Errorf("a deleted canary keeps %d points", len(pts))
	}
}
