package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/bench/harness"
)

const (
	// pauseImage is the image internal/localnode imports into the node's containerd.
	pauseImage = "flotilla.local/pause:test"
	// replicas are the Pods of the Deployment.
	replicas = 2
	// namespace holds the Deployment.
	namespace = "default"
	// rolloutAnnotation is the Pod template annotation the rolling update
	// changes.
	rolloutAnnotation = "bench.flotilla.io/rollout"
	// pollInterval is how often the Deployment is read.
	pollInterval = 20 * time.Millisecond
)

// pauseDeployment is the Deployment of the figure: replicas Pods of the
// pause image, which the node already holds.
func pauseDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": "bench-pause"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-pause", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{rolloutAnnotation: "1"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "pause", Image: pauseImage, ImagePullPolicy: corev1.PullIfNotPresent,
				}}},
			},
		},
	}
}

// rolledOut reports whether the controller has seen d's latest spec and
// every replica runs it and is available, none of an older template left:
// what `kubectl rollout status` waits for.
func rolledOut(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.Replicas != want || s.AvailableReplicas != want {
		return false
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// measureDeployment times the creation of the pause Deployment to
// Available, then a rolling update to Available; the Deployment stays.
func measureDeployment(ctx context.Context, c client.Client, timeout time.Duration, log *harness.Progress) (available, rollout time.Duration, err error) {
	if err := waitNamespaceReady(ctx, c, timeout); err != nil {
		return 0, 0, err
	}
	dep := pauseDeployment()
	t0 := time.Now()
	if err := c.Create(ctx, dep); err != nil {
		return 0, 0, fmt.Errorf("creating the Deployment: %w", err)
	}
	if err := waitRolledOut(ctx, c, dep, timeout); err != nil {
		return 0, 0, err
	}
	available = time.Since(t0)
	log.Printf("%d pause Pods Available after %s", replicas, available.Round(time.Millisecond))
	patch := client.MergeFrom(dep.DeepCopy())
	dep.Spec.Template.Annotations[rolloutAnnotation] = "2"
	t1 := time.Now()
	if err := c.Patch(ctx, dep, patch); err != nil {
		return 0, 0, fmt.Errorf("changing the Pod template: %w", err)
	}
	if err := waitRolledOut(ctx, c, dep, timeout); err != nil {
		return 0, 0, fmt.Errorf("rolling update: %w", err)
	}
	rollout = time.Since(t1)
	log.Printf("rolling update Available after %s", rollout.Round(time.Millisecond))
	return available, rollout, nil
}

// waitRolledOut reads dep every pollInterval until rolledOut.
func waitRolledOut(ctx context.Context, c client.Client, dep *appsv1.Deployment, timeout time.Duration) error {
	return poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return false, err
		}
		return rolledOut(dep), nil
	}, func() string {
		return fmt.Sprintf("Deployment %s not rolled out: %+v", dep.Name, dep.Status)
	})
}

// waitNamespaceReady waits, before any clock starts, for what Pods of a
// fresh namespace need from the controller-manager: the default
// ServiceAccount and the kube-root-ca.crt ConfigMap of the token volume.
func waitNamespaceReady(ctx context.Context, c client.Client, timeout time.Duration) error {
	return poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		sa := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "default"}, &corev1.ServiceAccount{})
		cm := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "kube-root-ca.crt"}, &corev1.ConfigMap{})
		return sa == nil && cm == nil, nil
	}, func() string { return "namespace " + namespace + " has no default ServiceAccount or kube-root-ca.crt" })
}

// poll calls done every pollInterval until it is true, fails, or timeout
// passes; describe says what was awaited.
func poll(ctx context.Context, timeout time.Duration, done func(context.Context) (bool, error), describe func() string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := done(ctx)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("%s: %w", describe(), ctx.Err())
		}
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", describe(), ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}
