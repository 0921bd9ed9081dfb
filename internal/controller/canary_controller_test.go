package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/rollouts"
)

func startRollouts(t *testing.T, ns string) *rollouts.Rollouts {
	return rollouts.Start(t, env.Client, ns)
}

func targetDeployment(ns, name, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

func blueGreenCanary(ns, name string) *v1alpha1.Canary {
	return &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.CanarySpec{
			Provider:  v1alpha1.RouterKubernetes,
			TargetRef: v1alpha1.CanaryTargetRef{Name: name},
			Service:   v1alpha1.CanaryService{Port: 9898},
			Analysis:  v1alpha1.CanaryAnalysis{Interval: "1s", Threshold: 2, Iterations: 2},
		},
	}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// waitPhase waits for the Canary's phase.
func waitPhase(t *testing.T, key client.ObjectKey, phase v1alpha1.CanaryPhase) *v1alpha1.Canary {
	t.Helper()
	c := &v1alpha1.Canary{}
	eventually(t, fmt.Sprintf("Canary %s in phase %s", key, phase), func() error {
		if err := get(t, key, c); err != nil {
			return err
		}
		if c.Status.Phase != phase {
			return fmt.Errorf("phase %s, Ready %+v", c.Status.Phase, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ReadyCondition))
		}
		return nil
	})
	return c
}

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := get(t, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func getService(t *testing.T, ns, name string) *corev1.Service {
	t.Helper()
	s := &corev1.Service{}
	if err := get(t, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func setImage(t *testing.T, ns, name, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Patch(context.Background(), d, client.RawPatch(types.StrategicMergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

func annotateCanary(t *testing.T, key client.ObjectKey, annotation, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, annotation, value)
	c := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := env.Client.Patch(context.Background(), c, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// A blue/green Canary against the real API server: the primary and the
// Services made and owned by the Canary, the target at zero, a new image
// judged for its iterations through <name>-canary and promoted.
func TestCanaryBlueGreenPromotes(t *testing.T) {
	ns := newNamespace(t)
	startRollouts(t, ns)
	create(t, targetDeployment(ns, "podinfo", "app:1.0.0"), blueGreenCanary(ns, "podinfo"))
	key := client.ObjectKey{Namespace: ns, Name: "podinfo"}
	c := waitPhase(t, key, v1alpha1.CanaryPhaseInitialized)

	p := getDeployment(t, ns, "podinfo-primary")
	if got := p.Spec.Selector.MatchLabels["app"]; got != "podinfo-primary" || !metav1.IsControlledBy(p, c) {
		t.Errorf("primary selector app=%s, controlled by the Canary %t", got, metav1.IsControlledBy(p, c))
	}
	if got := p.Spec.Template.Spec.Containers[0].Image; got != "app:1.0.0" || ptr.Deref(p.Spec.Replicas, 0) != 2 {
		t.Errorf("primary image %s, replicas %d; want app:1.0.0 and 2", got, ptr.Deref(p.Spec.Replicas, 0))
	}
	for name, app := range map[string]string{"podinfo": "podinfo-primary", "podinfo-primary": "podinfo-primary", "podinfo-canary": "podinfo"} {
		s := getService(t, ns, name)
		if s.Spec.Selector["app"] != app || s.Spec.Ports[0].Port != 9898 || s.Spec.Ports[0].Name != "http" || !metav1.IsControlledBy(s, c) {
			t.Errorf("Service %s: selector %v, ports %+v, controlled %t", name, s.Spec.Selector, s.Spec.Ports, metav1.IsControlledBy(s, c))
		}
	}
	if r := ptr.Deref(getDeployment(t, ns, "podinfo").Spec.Replicas, -1); r != 0 {
		t.Errorf("target replicas %d after initialization, want 0", r)
	}
	if !readyTrue(c) {
		t.Errorf("Initialized is Ready: %+v", c.Status.Conditions)
	}

	setImage(t, ns, "podinfo", "app:2.0.0")
	c = waitPhase(t, key, v1alpha1.CanaryPhaseSucceeded)
	p = getDeployment(t, ns, "podinfo-primary")
	if got := p.Spec.Template.Spec.Containers[0].Image; got != "app:2.0.0" {
		t.Errorf("primary image after promotion %s, want app:2.0.0", got)
	}
	if p.Spec.Selector.MatchLabels["app"] != "podinfo-primary" || p.Spec.Template.Labels["app"] != "podinfo-primary" {
		t.Errorf("primary labels after promotion: %v / %v", p.Spec.Selector.MatchLabels, p.Spec.Template.Labels)
	}
	if r := ptr.Deref(getDeployment(t, ns, "podinfo").Spec.Replicas, -1); r != 0 {
		t.Errorf("target replicas %d after promotion, want 0", r)
	}
	if s := getService(t, ns, "podinfo"); s.Spec.Selector["app"] != "podinfo-primary" {
		t.Errorf("apex selects %v after promotion", s.Spec.Selector)
	}
	if c.Status.Iterations != 2 || c.Status.LastPromotedSpec != c.Status.LastAppliedSpec || !readyTrue(c) {
		t.Errorf("status after promotion: %+v", c.Status)
	}
	if !cmpImages(c.Status.CanaryImages, "app:2.0.0") {
		t.Errorf("canaryImages %v", c.Status.CanaryImages)
	}
	waitEvent(t, ns, "podinfo", "Succeeded")
}

func readyTrue(c *v1alpha1.Canary) bool {
	r := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ReadyCondition)
	return r != nil && r.Status == metav1.ConditionTrue && r.ObservedGeneration == c.Generation
}

func cmpImages(got []string, want ...string) bool {
	return strings.Join(got, ",") == strings.Join(want, ",")
}

// waitEvent waits for an event with reason on the named Canary.
func waitEvent(t *testing.T, ns, name, reason string) {
	t.Helper()
	eventually(t, "event "+reason+" on "+name, func() error { return canaryEvent(ns, name, reason) })
}

// canaryEvent returns nil when the named Canary has an event with reason.
func canaryEvent(ns, name, reason string) error {
	var list corev1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.InvolvedObject.Kind == v1alpha1.CanaryKind && e.Reason == reason {
			return nil
		}
	}
	return fmt.Errorf("%d events, none %s", len(list.Items), reason)
}

// An abort during the analysis rolls back: the primary keeps the old image
// and the canary goes back to zero.
func TestCanaryAbortRollsBack(t *testing.T) {
	ns := newNamespace(t)
	r := startRollouts(t, ns)
	c := blueGreenCanary(ns, "web")
	c.Spec.Analysis.Interval = "1h" // the analysis waits: only the abort moves it
	create(t, targetDeployment(ns, "web", "app:1.0.0"), c)
	key := client.ObjectKeyFromObject(c)
	waitPhase(t, key, v1alpha1.CanaryPhaseInitialized)
	r.SetBroken("web", true)
	setImage(t, ns, "web", "app:2.0.0")
	waitPhase(t, key, v1alpha1.CanaryPhaseProgressing)
	eventually(t, "the canary scaled up", func() error {
		if n := ptr.Deref(getDeployment(t, ns, "web").Spec.Replicas, 0); n != 2 {
			return fmt.Errorf("replicas %d", n)
		}
		return nil
	})
	annotateCanary(t, key, v1alpha1.CanaryAbortAnnotation, "now")
	got := waitPhase(t, key, v1alpha1.CanaryPhaseFailed)
	if got.Status.HandledAbort != "now" {
		t.Errorf("handledAbort %q", got.Status.HandledAbort)
	}
	if n := ptr.Deref(getDeployment(t, ns, "web").Spec.Replicas, -1); n != 0 {
		t.Errorf("canary replicas after abort %d, want 0", n)
	}
	if img := getDeployment(t, ns, "web-primary").Spec.Template.Spec.Containers[0].Image; img != "app:1.0.0" {
		t.Errorf("primary image after abort %s, want app:1.0.0", img)
	}
	ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition)
	if ready == nil || ready.Status != metav1.ConditionFalse || !strings.Contains(ready.Message, "aborted by request") {
		t.Errorf("Ready after abort: %+v", ready)
	}
	if meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition) != nil {
		t.Error("a rollback is not Stalled")
	}
}

// A check that is neither built in nor backed by a MetricTemplate cannot be
// judged: the Canary is Stalled naming the field, and nothing is made.
func TestCanaryWithAMetricNobodyCanCheckIsStalled(t *testing.T) {
	ns := newNamespace(t)
	c := blueGreenCanary(ns, "api")
	c.Spec.Analysis.Metrics = []v1alpha1.CanaryMetric{{Name: "my-custom-check"}}
	create(t, targetDeployment(ns, "api", "app:1.0.0"), c)
	key := client.ObjectKeyFromObject(c)
	eventually(t, "Stalled", func() error {
		if err := get(t, key, c); err != nil {
			return err
		}
		s := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.StalledCondition)
		if s == nil || s.Status != metav1.ConditionTrue || !strings.Contains(s.Message, "spec.analysis.metrics[0]") || !strings.Contains(s.Message, "set templateRef") {
			return fmt.Errorf("Stalled = %+v", s)
		}
		return nil
	})
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "api-primary"}, &appsv1.Deployment{}); err == nil {
		t.Error("a primary was made for a refused Canary")
	}
}

// A Service of the apex's name that the Canary does not own is not taken
// over: the Canary is Stalled and says to remove it from the manifests.
func TestCanaryRefusesAForeignService(t *testing.T) {
	ns := newNamespace(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "shop"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	c := blueGreenCanary(ns, "shop")
	create(t, svc, targetDeployment(ns, "shop", "app:1.0.0"), c)
	eventually(t, "Stalled", func() error {
		if err := get(t, client.ObjectKeyFromObject(c), c); err != nil {
			return err
		}
		s := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.StalledCondition)
		if s == nil || !strings.Contains(s.Message, "remove it from your manifests") {
			return fmt.Errorf("Stalled = %+v", s)
		}
		return nil
	})
	if got := getService(t, ns, "shop").Spec.Selector["app"]; got != "shop" {
		t.Errorf("the foreign Service was changed: selector app=%s", got)
	}
}

// A Canary whose target does not exist yet waits for it (a Stack may apply
// the Canary first).
func TestCanaryWaitsForItsTarget(t *testing.T) {
	ns := newNamespace(t)
	startRollouts(t, ns)
	c := blueGreenCanary(ns, "late")
	create(t, c)
	key := client.ObjectKeyFromObject(c)
	eventually(t, "TargetNotFound", func() error {
		if err := get(t, key, c); err != nil {
			return err
		}
		r := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ReadyCondition)
		if r == nil || r.Reason != "TargetNotFound" {
			return fmt.Errorf("Ready = %+v", r)
		}
		return nil
	})
	create(t, targetDeployment(ns, "late", "app:1.0.0"))
	waitPhase(t, key, v1alpha1.CanaryPhaseInitialized)
}

// A target whose manifest sets spec.replicas (applied server-side, as a
// Stack does) fights the Canary's scaling: the Canary says so in a Warning
// event naming the field manager.
func TestCanaryWarnsWhenAManifestAppliesReplicas(t *testing.T) {
	ns := newNamespace(t)
	startRollouts(t, ns)
	d := targetDeployment(ns, "cart", "app:1.0.0")
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		t.Fatal(err)
	}
	ac := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: obj})
	if err := env.Client.Apply(context.Background(), ac, client.FieldOwner("flotilla"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	create(t, blueGreenCanary(ns, "cart"))
	waitEvent(t, ns, "cart", "ReplicasConflict")
}

// A change of a ConfigMap the target uses starts an analysis, as a new
// image does; the target's HorizontalPodAutoscaler is copied for the
// primary.
func TestCanaryTracksConfigsAndCopiesTheAutoscaler(t *testing.T) {
	ns := newNamespace(t)
	startRollouts(t, ns)
	d := targetDeployment(ns, "api", "app:1.0.0")
	d.Spec.Template.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "api-config"}}}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api-config"}, Data: map[string]string{"MODE": "a"}}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 4,
		},
	}
	c := blueGreenCanary(ns, "api")
	c.Spec.Analysis.Iterations = 1
	c.Spec.AutoscalerRef = &v1alpha1.CanaryTargetRef{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Name: "api"}
	create(t, cm, hpa, d, c)
	key := client.ObjectKeyFromObject(c)
	got := waitPhase(t, key, v1alpha1.CanaryPhaseInitialized)
	if _, ok := got.Status.TrackedConfigs["ConfigMap/api-config"]; !ok {
		t.Errorf("trackedConfigs %v, want ConfigMap/api-config", got.Status.TrackedConfigs)
	}
	primaryHPA := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "api-primary"}, primaryHPA); err != nil {
		t.Fatalf("the primary's HorizontalPodAutoscaler: %v", err)
	}
	if primaryHPA.Spec.ScaleTargetRef.Name != "api-primary" || primaryHPA.Spec.MaxReplicas != 4 || !metav1.IsControlledBy(primaryHPA, got) {
		t.Errorf("primary HPA spec %+v", primaryHPA.Spec)
	}
	applied := got.Status.LastAppliedSpec

	cm.Data["MODE"] = "b"
	if err := env.Client.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	got = waitPhase(t, key, v1alpha1.CanaryPhaseSucceeded)
	if got.Status.LastAppliedSpec == applied {
		t.Error("the spec hash did not follow the ConfigMap")
	}
}

// Deleting a Canary scales its target back up first: the primary goes with
// its owner, and the app is never left at zero replicas.
func TestCanaryDeletionScalesTheTargetBackUp(t *testing.T) {
	ns := newNamespace(t)
	startRollouts(t, ns)
	c := blueGreenCanary(ns, "gone")
	create(t, targetDeployment(ns, "gone", "app:1.0.0"), c)
	key := client.ObjectKeyFromObject(c)
	waitPhase(t, key, v1alpha1.CanaryPhaseInitialized)
	if n := ptr.Deref(getDeployment(t, ns, "gone").Spec.Replicas, -1); n != 0 {
		t.Fatalf("target replicas %d, want 0", n)
	}
	if err := env.Client.Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Canary gone", func() error {
		if err := get(t, key, &v1alpha1.Canary{}); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	if n := ptr.Deref(getDeployment(t, ns, "gone").Spec.Replicas, -1); n != 2 {
		t.Errorf("target replicas after the Canary's deletion %d, want 2 (the primary's)", n)
	}
}
