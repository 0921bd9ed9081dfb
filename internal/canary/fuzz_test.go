package canary_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// FuzzStepKeepsItsInvariants drives one Canary through any sequence of
// releases, failing checks, refused promotions, broken Deployments,
// requests, clock jumps and a target that cannot be scaled down, one step
// after each, and checks after every step what must always hold (after a
// failed step, that it counted nothing): the status and the router agree on the
// weight, the weights add up, the target is at zero when the Canary is
// idle, and a Succeeded Canary's primary runs the spec it judged.
func FuzzStepKeepsItsInvariants(f *testing.F) {
	f.Add([]byte{9, 9, 9, 0, 9, 9, 9, 9, 9, 9, 9, 9})       // a good release
	f.Add([]byte{9, 9, 0, 1, 9, 9, 9, 9, 9, 9})             // a bad release
	f.Add([]byte{9, 9, 0, 2, 9, 9, 9, 9, 0, 9, 9, 6, 9, 9}) // refused promotion, new revision, promote request
	f.Add([]byte{9, 9, 0, 9, 3, 9, 9, 7, 9, 9, 5, 9})       // a primary that breaks, a deadline, an abort
	f.Add([]byte{4, 9, 0, 9, 7, 9, 0, 4, 9, 9, 9, 9, 9})    // a canary that never gets ready
	f.Add([]byte{9, 9, 0, 1, 9, 9, 8, 9, 9, 8, 9, 9})       // a rollback that cannot scale down at first
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		c := withHooks(weighted(), v1alpha1.CanaryWebhook{Name: "ship", Type: v1alpha1.ConfirmPromotionHook, URL: "http://x"})
		r := newRig(t, c)
		r.h.refuse = map[string]error{}
		failing := false
		r.m.fail = func(int) bool { return failing }
		releases, requests := 0, 0
		synced := true // no failed step left the router ahead of the status
		for i, op := range ops {
			switch op % 10 {
			case 0:
				releases++
				r.k.release(fmt.Sprintf("spec-v%d", releases+1), fmt.Sprintf("app:%d.0.0", releases+1))
			case 1:
				failing = !failing
			case 2:
				if r.h.refuse["ship"] == nil {
					r.h.refuse["ship"] = errors.New("HTTP 403")
				} else {
					delete(r.h.refuse, "ship")
				}
			case 3:
				r.k.primaryBroken = !r.k.primaryBroken
			case 4:
				r.k.targetBroken = !r.k.targetBroken
			case 5, 6:
				requests++
				key := v1alpha1.CanaryAbortAnnotation
				if op%10 == 6 {
					key = v1alpha1.CanaryPromoteAnnotation
				}
				r.c.Annotations = map[string]string{key: fmt.Sprintf("request-%d", requests)}
			case 7:
				r.now = r.now.Add(11 * time.Minute)
			case 8:
				if r.k.scaleDownErr == nil {
					r.k.scaleDownErr = errors.New("deployments.apps is forbidden")
				} else {
					r.k.scaleDownErr = nil
				}
			}
			if _, err := r.step(); err != nil {
				if r.k.scaleDownErr == nil {
					t.Fatalf("op %d (%d): step in phase %s: %v", i, op, r.c.Status.Phase, err)
				}
				// The step is tried again: its actions may be half done,
				// but it counted nothing.
				if st := r.c.Status; st.FailedChecks > canary.Threshold(r.c) {
					t.Fatalf("op %d: a failed step left %d failed checks, past the threshold", i, st.FailedChecks)
				}
				synced = false // e.g. a rollback that moved the traffic, then failed
				continue
			}
			checkInvariants(t, i, r, synced)
			synced = synced || idle(r.c.Status.Phase)
		}
	})
}

func idle(p v1alpha1.CanaryPhase) bool {
	return p == v1alpha1.CanaryPhaseInitialized || p == v1alpha1.CanaryPhaseSucceeded || p == v1alpha1.CanaryPhaseFailed
}

func checkInvariants(t *testing.T, i int, r *rig, synced bool) {
	t.Helper()
	st := r.c.Status
	if r.k.routes[0]+r.k.routes[1] != 100 || r.k.routes[1] < 0 || r.k.routes[1] > canary.MaxWeight(r.c) {
		t.Fatalf("op %d: routes %v", i, r.k.routes)
	}
	if synced && st.CanaryWeight != r.k.routes[1] {
		t.Fatalf("op %d: status weight %d, router %v (phase %s)", i, st.CanaryWeight, r.k.routes, st.Phase)
	}
	if st.FailedChecks > canary.Threshold(r.c) {
		t.Fatalf("op %d: %d failed checks past the threshold %d", i, st.FailedChecks, canary.Threshold(r.c))
	}
	if idle(st.Phase) && (r.k.targetReplicas != 0 || st.CanaryWeight != 0) {
		t.Fatalf("op %d: idle in %s with the target at %d replicas, weight %d", i, st.Phase, r.k.targetReplicas, st.CanaryWeight)
	}
	if st.Phase == "" {
		t.Fatalf("op %d: no phase after a step", i)
	}
	if st.Phase == v1alpha1.CanaryPhaseSucceeded && (r.k.primarySpec != st.LastPromotedSpec || st.LastPromotedSpec != st.LastAppliedSpec) {
		t.Fatalf("op %d: Succeeded with primary %s, promoted %s, judged %s", i, r.k.primarySpec, st.LastPromotedSpec, st.LastAppliedSpec)
	}
	if conditionStatus(r.c, v1alpha1.ReadyCondition) == "" {
		t.Fatalf("op %d: no Ready condition in phase %s", i, st.Phase)
	}
}
