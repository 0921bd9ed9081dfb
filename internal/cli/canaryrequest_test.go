package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// requestedCanary is Canary apps/podinfo in phase whose agent handled a
// promote or an abort request at, with a Ready message.
func requestedCanary(phase v1alpha1.CanaryPhase, abort bool, at, message string) *v1alpha1.Canary {
	cn := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "podinfo", Generation: 1},
		Spec:       v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "podinfo"}},
		Status: v1alpha1.CanaryStatus{Phase: phase,
			Conditions: []metav1.Condition{readyCond(metav1.ConditionTrue, "Succeeded", message)}},
	}
	if abort {
		cn.Status.HandledAbort = at
	} else {
		cn.Status.HandledPromote = at
	}
	return cn
}

func TestCanaryRequestSetsTheVerbsAnnotation(t *testing.T) {
	cases := []struct {
		abort bool
		want  string
	}{
		{false, v1alpha1.CanaryPromoteAnnotation},
		{true, v1alpha1.CanaryAbortAnnotation},
	}
	for _, tc := range cases {
		t.Run(canaryRequestVerb(tc.abort), func(t *testing.T) {
			cn := requestedCanary(v1alpha1.CanaryPhaseProgressing, tc.abort, "", "")
			cn.Annotations = map[string]string{"team": "shop"}
			c := newFakeClient(t, cn)
			o := &CanaryRequestOptions{Abort: tc.abort}
			if err := o.request(t.Context(), c, cn.DeepCopy(), requestedAt); err != nil {
				t.Fatal(err)
			}
			var stored v1alpha1.Canary
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(cn), &stored); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"team": "shop", tc.want: requestedAt}
			if diff := cmp.Diff(want, stored.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanaryRequestNamesTheAnnotationOnFailure(t *testing.T) {
	c := newFakeClient(t)
	o := &CanaryRequestOptions{Abort: true}
	err := o.request(t.Context(), c, requestedCanary("", true, "", ""), requestedAt)
	if !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), "setting flotilla.io/abort-requested-at on Canary apps/podinfo: ") {
		t.Errorf("request = %v, want a NotFound naming the annotation and the Canary", err)
	}
}

func TestCanaryWaitReportsTheOutcome(t *testing.T) {
	cases := []struct {
		name    string
		abort   bool
		phase   v1alpha1.CanaryPhase
		wantOut string
		wantErr string
	}{
		{"a promotion that succeeded", false, v1alpha1.CanaryPhaseSucceeded,
			"  phase Succeeded\n✔ Canary apps/podinfo succeeded: the message\n", ""},
		{"a promotion that failed is an error", false, v1alpha1.CanaryPhaseFailed,
			"  phase Failed\n", "canary apps/podinfo failed: the message"},
		{"an abort ends Failed, as asked", true, v1alpha1.CanaryPhaseFailed,
			"  phase Failed\n✔ Canary apps/podinfo failed: the message\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(t, requestedCanary(tc.phase, tc.abort, requestedAt, "the message"))
			o := &CanaryRequestOptions{Abort: tc.abort, Timeout: time.Minute}
			var out bytes.Buffer
			err := o.wait(t.Context(), c, client.ObjectKey{Namespace: "apps", Name: "podinfo"}, requestedAt, Streams{Out: &out})
			if errString(err) != tc.wantErr {
				t.Errorf("wait = %v, want %q", err, tc.wantErr)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}

// TestCanaryWaitFollowsThePhases: each phase seen after the agent handled
// the request is printed once, until a final one.
func TestCanaryWaitFollowsThePhases(t *testing.T) {
	phases := []struct {
		handled string
		phase   v1alpha1.CanaryPhase
	}{
		{"", v1alpha1.CanaryPhaseProgressing}, // not handled yet: not printed
		{requestedAt, v1alpha1.CanaryPhasePromoting},
		{requestedAt, v1alpha1.CanaryPhasePromoting},
		{requestedAt, v1alpha1.CanaryPhaseFinalising},
		{requestedAt, v1alpha1.CanaryPhaseSucceeded},
	}
	reads := 0
	c := onGet([]client.Object{requestedCanary("", false, "", "promoted")}, func(ctx context.Context, next client.WithWatch, key client.ObjectKey, obj client.Object) error {
		if err := next.Get(ctx, key, obj); err != nil {
			return err
		}
		cn := obj.(*v1alpha1.Canary)
		p := phases[min(reads, len(phases)-1)]
		cn.Status.HandledPromote, cn.Status.Phase = p.handled, p.phase
		reads++
		return nil
	})
	o := &CanaryRequestOptions{Timeout: time.Minute}
	var out bytes.Buffer
	if err := o.wait(t.Context(), c, client.ObjectKey{Namespace: "apps", Name: "podinfo"}, requestedAt, Streams{Out: &out}); err != nil {
		t.Fatal(err)
	}
	want := "  phase Promoting\n  phase Finalising\n  phase Succeeded\n✔ Canary apps/podinfo succeeded: promoted\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if reads != len(phases) {
		t.Errorf("%d reads, want %d: the wait ends at the first final phase", reads, len(phases))
	}
}

func TestCanaryWaitStopsWithItsContext(t *testing.T) {
	cases := []struct {
		name      string
		abort     bool
		canary    *v1alpha1.Canary
		wantStart string
	}{
		{"the request not handled yet", false, requestedCanary(v1alpha1.CanaryPhaseProgressing, false, "an older request", ""),
			"waiting for Canary apps/podinfo to promote (last phase none yet): "},
		{"an abort still under way", true, requestedCanary(v1alpha1.CanaryPhaseProgressing, true, requestedAt, ""),
			"waiting for Canary apps/podinfo to abort (last phase Progressing): "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ctx := cancelOnGet(t, 1, tc.canary)
			o := &CanaryRequestOptions{Abort: tc.abort, Timeout: time.Minute}
			var out bytes.Buffer
			err := o.wait(ctx, c, client.ObjectKeyFromObject(tc.canary), requestedAt, Streams{Out: &out})
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantStart) || !errors.Is(err, context.Canceled) {
				t.Errorf("wait = %v, want it to start with %q and wrap the cancel", err, tc.wantStart)
			}
		})
	}
}

func TestCanaryWaitOnADeletedCanary(t *testing.T) {
	c := newFakeClient(t)
	o := &CanaryRequestOptions{Timeout: time.Minute}
	err := o.wait(t.Context(), c, client.ObjectKey{Namespace: "apps", Name: "podinfo"}, requestedAt, Streams{Out: &bytes.Buffer{}})
	if !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), "waiting for Canary apps/podinfo to promote") {
		t.Errorf("wait = %v, want the NotFound, naming the Canary", err)
	}
}

func TestInAnalysis(t *testing.T) {
	cases := map[v1alpha1.CanaryPhase]bool{
		"":                                   false,
		v1alpha1.CanaryPhaseInitializing:     false,
		v1alpha1.CanaryPhaseInitialized:      false,
		v1alpha1.CanaryPhaseWaiting:          true,
		v1alpha1.CanaryPhaseProgressing:      true,
		v1alpha1.CanaryPhaseWaitingPromotion: true,
		v1alpha1.CanaryPhaseFrozen:           true,
		v1alpha1.CanaryPhasePromoting:        false,
		v1alpha1.CanaryPhaseFinalising:       false,
		v1alpha1.CanaryPhaseSucceeded:        false,
		v1alpha1.CanaryPhaseFailed:           false,
	}
	for phase, want := range cases {
		if got := inAnalysis(phase); got != want {
			t.Errorf("inAnalysis(%q) = %t, want %t", phase, got, want)
		}
	}
}

func TestPhaseNameAndVerb(t *testing.T) {
	if got := phaseName(""); got != "none yet" {
		t.Errorf("phaseName(\"\") = %q", got)
	}
	if got := phaseName(v1alpha1.CanaryPhaseFrozen); got != "Frozen" {
		t.Errorf("phaseName(Frozen) = %q", got)
	}
	if canaryRequestVerb(true) != "abort" || canaryRequestVerb(false) != "promote" {
		t.Errorf("canaryRequestVerb = %q, %q", canaryRequestVerb(true), canaryRequestVerb(false))
	}
}

func TestGetCanariesRead(t *testing.T) {
	objs := []client.Object{}
	for _, cn := range fixtureCanaries() {
		objs = append(objs, cn)
	}
	cases := []struct {
		name    string
		o       GetCanariesOptions
		want    []string
		wantErr string
	}{
		{"one namespace", GetCanariesOptions{Kube: KubeFlags{Namespace: "apps"}}, []string{"apps/api", "apps/podinfo"}, ""},
		{"every namespace, sorted by namespace then name", GetCanariesOptions{Kube: KubeFlags{AllNamespaces: true}},
			[]string{"apps/api", "apps/podinfo", "shop/cart"}, ""},
		{"one by name", GetCanariesOptions{Kube: KubeFlags{Namespace: "shop"}, Name: "cart"}, []string{"shop/cart"}, ""},
		{"a missing name suggests a close one", GetCanariesOptions{Kube: KubeFlags{Namespace: "apps"}, Name: "apy"}, nil,
			"Canary apps/apy not found; did you mean api?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := tc.o.read(t.Context(), newFakeClient(t, objs...))
			if errString(err) != tc.wantErr {
				t.Fatalf("read = %v, want %q", err, tc.wantErr)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Namespace+"/"+e.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanaryEntry(t *testing.T) {
	c := fixtureCanaries()
	last := getNow().Add(-40 * time.Second)
	want := []CanaryEntry{
		{Namespace: "apps", Name: "podinfo", Phase: "Progressing", Weight: 30, Iterations: 3, FailedChecks: 1, Threshold: 3,
			LastStep: &last, Images: []string{"ghcr.io/acme/podinfo:6.1.0"}, Ready: "Unknown", Reason: "Progressing",
			Message: "check failed (1/3): metric request-success-rate: value 0.91 below min 0.99"},
		{Namespace: "shop", Name: "cart", Phase: "Succeeded", Iterations: 5, MaxIterations: 5, Threshold: 5, Suspended: true,
			Ready: "True", Reason: "Succeeded", Message: "promotion completed: cart-primary runs cart:2.0.0"},
		{Namespace: "apps", Name: "api", Threshold: 5, Ready: "Unknown"},
	}
	for i, cn := range c {
		if diff := cmp.Diff(want[i], canaryEntry(cn)); diff != "" {
			t.Errorf("canaryEntry(%s) (-want +got):\n%s", cn.Name, diff)
		}
	}
}
