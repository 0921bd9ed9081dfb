package controller_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// stackCanaryFiles are a Deployment without spec.replicas (as Flagger and
// Flux users write it) and its Canary, applied by one Stack.
func stackCanaryFiles(ns, image string) map[string]string {
	return map[string]string{"app/deploy.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: %[1]s}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: app, image: %[2]q}]}
---
apiVersion: flotilla.io/v1alpha1
kind: Canary
metadata: {name: shop, namespace: %[1]s}
spec:
  provider: kubernetes
  targetRef: {name: shop}
  service: {port: 8080}
  analysis: {interval: 1s, threshold: 2, iterations: 1}
`, ns, image)}
}

// The Stack applies the target and the Canary; the Canary's controller
// scales the target and makes the primary and the Services. Neither fights
// the other: the Stack's re-apply and its drift watch leave the replicas
// alone, never prune the primary or the Services (they carry no Stack
// labels and are not in its inventory), and a new image in Git goes through
// the analysis to the primary.
func TestCanaryAndStackDoNotFight(t *testing.T) {
	f, key := driftFixture(t, func(ns string) map[string]string { return stackCanaryFiles(ns, "app:1.0.0") })
	ns := f.ns
	startRollouts(t, ns)
	canaryKey := client.ObjectKey{Namespace: ns, Name: "shop"}
	waitPhase(t, canaryKey, v1alpha1.CanaryPhaseInitialized)

	primary := getDeployment(t, ns, "shop-primary")
	for _, l := range []string{"stack.flotilla.io/name", "stack.flotilla.io/namespace"} {
		if _, ok := primary.Labels[l]; ok {
			t.Errorf("the primary carries the Stack label %s", l)
		}
	}
	for _, name := range []string{"shop", "shop-primary", "shop-canary"} {
		if _, ok := getService(t, ns, name).Labels["stack.flotilla.io/name"]; ok {
			t.Errorf("Service %s carries the Stack label", name)
		}
	}

	// The Stack applies again: the target stays at zero, the rest stays.
	requestReconcile(t, &v1alpha1.Stack{}, key)
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")
	time.Sleep(time.Second) // let a drift correction, if any, happen
	if n := ptr.Deref(getDeployment(t, ns, "shop").Spec.Replicas, -1); n != 0 {
		t.Errorf("target replicas %d after the Stack's re-apply, want 0 (the Canary's)", n)
	}
	if got := inventoryNames(s); slices.Contains(got, "Deployment/shop-primary") || slices.Contains(got, "Service/shop") {
		t.Errorf("the Stack's inventory holds the Canary's objects: %v", got)
	}
	if err := get(t, key, s); err != nil || len(s.Status.Drift) != 0 {
		t.Errorf("drift recorded on the Stack: %+v (%v)", s.Status.Drift, err)
	}
	getDeployment(t, ns, "shop-primary")

	// A new image in Git: analysed and promoted, replicas never reverted.
	f.update(t, stackCanaryFiles(ns, "app:2.0.0"))
	requestReconcile(t, &v1alpha1.Stack{}, key)
	c := waitPhase(t, canaryKey, v1alpha1.CanaryPhaseSucceeded)
	if !cmpImages(c.Status.CanaryImages, "app:2.0.0") {
		t.Errorf("canaryImages %v, want app:2.0.0", c.Status.CanaryImages)
	}
	if img := getDeployment(t, ns, "shop-primary").Spec.Template.Spec.Containers[0].Image; img != "app:2.0.0" {
		t.Errorf("primary image %s, want app:2.0.0", img)
	}
	if err := get(t, key, s); err != nil || len(s.Status.Drift) != 0 {
		t.Errorf("drift recorded on the Stack: %+v (%v)", s.Status.Drift, err)
	}
	if canaryEvent(ns, "shop", "ReplicasConflict") == nil {
		t.Error("a ReplicasConflict warning for a manifest without replicas")
	}
}
