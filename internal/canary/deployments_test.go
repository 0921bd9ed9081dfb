package canary_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/canary"
)

var stepTime = time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC)

// podinfo is a target Deployment as a Stack applies it: owned by the Stack
// (its labels), with an init container, a ConfigMap in env, a Secret in a
// volume and an optional ConfigMap that does not exist.
func podinfo(namespace string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "podinfo"}
	optional := true
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: namespace, Labels: map[string]string{
			"app": "podinfo", "team": "web", apply.OwnerNameLabel: "apps", apply.OwnerNamespaceLabel: "flotilla-system",
		}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "migrate", Image: "migrate:1.0.0"}},
					Containers: []corev1.Container{{
						Name: "app", Image: "podinfo:6.0.0",
						Env: []corev1.EnvVar{{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{
							ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "level"},
						}}},
						EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: &optional,
						}}},
					}},
					Volumes: []corev1.Volume{{Name: "creds", VolumeSource: corev1.VolumeSource{
						Secret: &corev1.SecretVolumeSource{SecretName: "creds"},
					}}},
				},
			},
		},
	}
}

func configsOf(namespace string) (*corev1.ConfigMap, *corev1.Secret) {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: namespace}, Data: map[string]string{"level": "info"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: namespace}, Data: map[string][]byte{"token": []byte("s3cr3t-token")}}
}

var hash16 = regexp.MustCompile(`^[0-9a-f]{16}$`)

// TestDeployments runs the Workload and Observe against a real
// kube-apiserver: what they write is what the API server validated and
// stored.
func TestDeployments(t *testing.T) {
	k := startAPIServer(t)
	ctx := context.Background()
	d := canary.NewDeployments(k)

	t.Run("a missing target is a TargetNotFoundError naming the Canary and the target", func(t *testing.T) {
		c := inNamespace(t, k, "no-target", "podinfo")
		for name, call := range map[string]func() error{
			"Observe":       func() error { _, err := d.Observe(ctx, c, stepTime); return err },
			"EnsurePrimary": func() error { return d.EnsurePrimary(ctx, c) },
			"ScaleTarget":   func() error { return d.ScaleTarget(ctx, c, true) },
			"Promote":       func() error { return d.Promote(ctx, c, "0123456789abcdef") },
		} {
			var nf *canary.TargetNotFoundError
			err := call()
			if !errors.As(err, &nf) {
				t.Errorf("%s = %v, want a *TargetNotFoundError", name, err)
				continue
			}
			if want := "canary no-target/podinfo: target Deployment no-target/podinfo not found"; err.Error() != want {
				t.Errorf("%s error = %q, want %q", name, err, want)
			}
		}
	})

	t.Run("Observe before the primary exists hashes the configs the target uses", func(t *testing.T) {
		c := inNamespace(t, k, "observe", "podinfo")
		cm, secret := configsOf(c.Namespace)
		create(t, k, podinfo(c.Namespace, 2))
		create(t, k, cm)
		create(t, k, secret)

		obs := observe(t, d, c)
		if !obs.Now.Equal(stepTime) || obs.PrimaryExists || obs.PrimarySpec != "" {
			t.Errorf("Observe = now %v, primary exists %t spec %q; want the step time and no primary", obs.Now, obs.PrimaryExists, obs.PrimarySpec)
		}
		if want := "podinfo-primary does not exist yet"; obs.Primary.Message != want || obs.Primary.Ready {
			t.Errorf("Primary = %+v, want not ready saying %q", obs.Primary, want)
		}
		if diff := cmp.Diff([]string{"migrate:1.0.0", "podinfo:6.0.0"}, obs.Images); diff != "" {
			t.Errorf("Images, init containers first (-want +got):\n%s", diff)
		}
		// No Deployment controller runs here: the new generation is not observed.
		if obs.Target.Ready || !strings.Contains(obs.Target.Message, "generation 1 is not observed yet") {
			t.Errorf("Target = %+v, want not ready: generation 1 not observed", obs.Target)
		}
		if len(obs.TrackedConfigs) != 2 || !hash16.MatchString(obs.TrackedConfigs["ConfigMap/settings"]) || !hash16.MatchString(obs.TrackedConfigs["Secret/creds"]) {
			t.Errorf("TrackedConfigs = %v, want a 16-hex hash for ConfigMap/settings and Secret/creds only (the optional ConfigMap/absent does not exist)", obs.TrackedConfigs)
		}
		if !hash16.MatchString(obs.TargetSpec) {
			t.Errorf("TargetSpec = %q, want 16 hex digits", obs.TargetSpec)
		}
		if obs.ReplicasAppliedBy != "" {
			t.Errorf("ReplicasAppliedBy = %q for a Deployment created (not applied)", obs.ReplicasAppliedBy)
		}

		cm.Data["level"] = "debug"
		must(t, k.Update(ctx, cm))
		again := observe(t, d, c)
		if again.TargetSpec == obs.TargetSpec || again.TrackedConfigs["ConfigMap/settings"] == obs.TrackedConfigs["ConfigMap/settings"] {
			t.Errorf("a changed ConfigMap left the hashes as they were: %v -> %v", obs.TrackedConfigs, again.TrackedConfigs)
		}
		if again.TrackedConfigs["Secret/creds"] != obs.TrackedConfigs["Secret/creds"] {
			t.Errorf("the unchanged Secret's hash moved: %q -> %q", obs.TrackedConfigs["Secret/creds"], again.TrackedConfigs["Secret/creds"])
		}
	})

	t.Run("EnsurePrimary copies the target for the Canary, not for the Stack", func(t *testing.T) {
		c := inNamespace(t, k, "ensure", "podinfo")
		create(t, k, podinfo(c.Namespace, 3))
		must(t, d.EnsurePrimary(ctx, c))
		p := primaryOf(t, k, c)
		if diff := cmp.Diff(map[string]string{"app": "podinfo", "team": "web"}, p.Labels); diff != "" {
			t.Errorf("primary labels, without the Stack's ownership (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"app": "podinfo-primary"}, p.Spec.Selector.MatchLabels); diff != "" {
			t.Errorf("primary selector (-want +got):\n%s", diff)
		}
		if got := p.Spec.Template.Labels["app"]; got != "podinfo-primary" {
			t.Errorf("primary pod label app = %q, want podinfo-primary", got)
		}
		if got := ptr.Deref(p.Spec.Replicas, -1); got != 3 {
			t.Errorf("primary replicas = %d, want the target's 3", got)
		}
		owner := metav1.GetControllerOf(p)
		if owner == nil || owner.Kind != "Canary" || owner.Name != "podinfo" || owner.UID != c.UID {
			t.Errorf("primary controller = %+v, want the Canary", owner)
		}
		obs := observe(t, d, c)
		if !obs.PrimaryExists || obs.PrimarySpec != obs.TargetSpec || p.Annotations[canary.SpecAnnotation] != obs.TargetSpec {
			t.Errorf("Observe after EnsurePrimary: exists %t, primary spec %q, annotation %q; want both the target's %q",
				obs.PrimaryExists, obs.PrimarySpec, p.Annotations[canary.SpecAnnotation], obs.TargetSpec)
		}
		if !strings.Contains(obs.Primary.Message, "Deployment podinfo-primary") {
			t.Errorf("Primary readiness = %+v, want it to name podinfo-primary", obs.Primary)
		}
	})

	t.Run("EnsurePrimary leaves an existing primary as it is", func(t *testing.T) {
		c := inNamespace(t, k, "ensure-twice", "podinfo")
		target := podinfo(c.Namespace, 2)
		create(t, k, target)
		must(t, d.EnsurePrimary(ctx, c))
		target.Spec.Template.Spec.Containers[0].Image = "podinfo:6.1.0"
		must(t, k.Update(ctx, target))
		must(t, d.EnsurePrimary(ctx, c))
		p := primaryOf(t, k, c)
		if got := p.Spec.Template.Spec.Containers[0].Image; got != "podinfo:6.0.0" {
			t.Errorf("primary image = %q after a second EnsurePrimary, want the first copy's podinfo:6.0.0", got)
		}
	})

	t.Run("EnsurePrimary of a target scaled to zero gives the primary one replica", func(t *testing.T) {
		c := inNamespace(t, k, "ensure-zero", "podinfo")
		create(t, k, podinfo(c.Namespace, 0))
		must(t, d.EnsurePrimary(ctx, c))
		p := primaryOf(t, k, c)
		if got := ptr.Deref(p.Spec.Replicas, -1); got != 1 {
			t.Errorf("primary replicas = %d, want 1", got)
		}
	})

	t.Run("a target without an app label is a SpecError on spec.targetRef", func(t *testing.T) {
		c := inNamespace(t, k, "no-app-label", "podinfo")
		target := podinfo(c.Namespace, 1)
		target.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
		target.Spec.Template.Labels = map[string]string{"tier": "web"}
		create(t, k, target)
		var se *canary.SpecError
		if err := d.EnsurePrimary(ctx, c); !errors.As(err, &se) || se.Field != "spec.targetRef" {
			t.Errorf("EnsurePrimary = %v, want a *SpecError on spec.targetRef", err)
		}
		if err := k.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: "podinfo-primary"}, &appsv1.Deployment{}); err == nil {
			t.Error("a primary was created for a target the engine cannot select")
		}
	})

	t.Run("ScaleTarget goes to zero and back up to the primary's replicas", func(t *testing.T) {
		c := inNamespace(t, k, "scale", "podinfo")
		create(t, k, podinfo(c.Namespace, 2))
		replicas := func() int32 {
			target := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: c.Namespace}}
			get(t, k, target)
			return ptr.Deref(target.Spec.Replicas, -1)
		}
		must(t, d.ScaleTarget(ctx, c, true))
		if got := replicas(); got != 1 {
			t.Errorf("scaled up without a primary: %d replicas, want 1", got)
		}
		must(t, d.EnsurePrimary(ctx, c))
		p := primaryOf(t, k, c)
		p.Spec.Replicas = ptr.To[int32](4)
		must(t, k.Update(ctx, p))
		for _, tc := range []struct {
			up   bool
			want int32
		}{{false, 0}, {false, 0}, {true, 4}, {true, 4}} {
			if err := d.ScaleTarget(ctx, c, tc.up); err != nil {
				t.Fatalf("ScaleTarget(up=%t): %v", tc.up, err)
			}
			if got := replicas(); got != tc.want {
				t.Errorf("ScaleTarget(up=%t): %d replicas, want %d", tc.up, got, tc.want)
			}
		}
	})

	t.Run("Promote copies the judged spec and keeps the primary's replicas and selector", func(t *testing.T) {
		c := inNamespace(t, k, "promote", "podinfo")
		target := podinfo(c.Namespace, 2)
		create(t, k, target)
		must(t, d.EnsurePrimary(ctx, c))
		p := primaryOf(t, k, c)
		p.Spec.Replicas = ptr.To[int32](5)
		must(t, k.Update(ctx, p))
		target.Spec.Template.Spec.Containers[0].Image = "podinfo:6.1.0"
		target.Spec.MinReadySeconds = 7
		must(t, k.Update(ctx, target))
		obs := observe(t, d, c)
		must(t, d.Promote(ctx, c, obs.TargetSpec))
		get(t, k, p)
		got := struct {
			Image            string
			MinReadySeconds  int32
			Replicas         int32
			Selector, Labels map[string]string
			Spec             string
		}{p.Spec.Template.Spec.Containers[0].Image, p.Spec.MinReadySeconds, ptr.Deref(p.Spec.Replicas, -1),
			p.Spec.Selector.MatchLabels, p.Spec.Template.Labels, p.Annotations[canary.SpecAnnotation]}
		want := got
		want.Image, want.MinReadySeconds, want.Replicas, want.Spec = "podinfo:6.1.0", 7, 5, obs.TargetSpec
		want.Selector, want.Labels = map[string]string{"app": "podinfo-primary"}, map[string]string{"app": "podinfo-primary"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("primary after Promote (-want +got):\n%s", diff)
		}
	})

	t.Run("Promote refuses a target that changed since its analysis", func(t *testing.T) {
		c := inNamespace(t, k, "promote-moved", "podinfo")
		create(t, k, podinfo(c.Namespace, 2))
		must(t, d.EnsurePrimary(ctx, c))
		obs := observe(t, d, c)
		err := d.Promote(ctx, c, "0123456789abcdef")
		want := "canary promote-moved/podinfo: the target changed since its analysis (spec " + obs.TargetSpec[:8] + ", judged 01234567); not promoting it"
		if err == nil || err.Error() != want {
			t.Errorf("Promote = %v, want %q", err, want)
		}
	})

	t.Run("Promote without a primary says it is missing", func(t *testing.T) {
		c := inNamespace(t, k, "promote-no-primary", "podinfo")
		create(t, k, podinfo(c.Namespace, 2))
		obs := observe(t, d, c)
		err := d.Promote(ctx, c, obs.TargetSpec)
		if want := "canary promote-no-primary/podinfo: primary Deployment podinfo-primary is missing"; err == nil || err.Error() != want {
			t.Errorf("Promote = %v, want %q", err, want)
		}
	})

	t.Run("the replicas a Stack applies are named, the engine's own are not", func(t *testing.T) {
		for _, tc := range []struct{ manager, want string }{
			{"flotilla-stack", "flotilla-stack"},
			{canary.FieldOwner, ""},
		} {
			c := inNamespace(t, k, "applied-by-"+tc.manager, "podinfo")
			serverSideApply(t, k, podinfo(c.Namespace, 2), tc.manager)
			if got := observe(t, d, c).ReplicasAppliedBy; got != tc.want {
				t.Errorf("applied by %s: ReplicasAppliedBy = %q, want %q", tc.manager, got, tc.want)
			}
		}
	})
}

// primaryOf reads the primary Deployment of c.
func primaryOf(t *testing.T, k client.Client, c *v1alpha1.Canary) *appsv1.Deployment {
	t.Helper()
	p := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: canary.PrimaryName(c), Namespace: c.Namespace}}
	get(t, k, p)
	return p
}

// serverSideApply applies d as manager, as a Stack applies its manifests.
func serverSideApply(t *testing.T, k client.Client, d *appsv1.Deployment, manager string) {
	t.Helper()
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	data, err := json.Marshal(d)
	must(t, err)
	must(t, k.Patch(context.Background(), d, client.RawPatch(types.ApplyPatchType, data), client.FieldOwner(manager), client.ForceOwnership))
}

// TestAutoscalerCopy checks the primary's HorizontalPodAutoscaler against
// a real kube-apiserver.
func TestAutoscalerCopy(t *testing.T) {
	k := startAPIServer(t)
	ctx := context.Background()
	d := canary.NewDeployments(k)
	hpa := func(namespace string, max int32) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: namespace},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
				MinReplicas:    ptr.To[int32](2), MaxReplicas: max,
			},
		}
	}

	t.Run("EnsurePrimary copies the target's autoscaler for the primary, Promote follows it", func(t *testing.T) {
		c := inNamespace(t, k, "hpa", "podinfo")
		c.Spec.AutoscalerRef = &v1alpha1.CanaryTargetRef{Kind: "HorizontalPodAutoscaler", Name: "podinfo"}
		create(t, k, podinfo(c.Namespace, 2))
		src := hpa(c.Namespace, 10)
		create(t, k, src)
		must(t, d.EnsurePrimary(ctx, c))
		cp := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-primary", Namespace: c.Namespace}}
		get(t, k, cp)
		want := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo-primary"}
		if diff := cmp.Diff(want, cp.Spec.ScaleTargetRef); diff != "" {
			t.Errorf("the copy scales (-want +got):\n%s", diff)
		}
		if ptr.Deref(cp.Spec.MinReplicas, -1) != 2 || cp.Spec.MaxReplicas != 10 {
			t.Errorf("the copy's bounds = %d..%d, want 2..10", ptr.Deref(cp.Spec.MinReplicas, -1), cp.Spec.MaxReplicas)
		}
		if owner := metav1.GetControllerOf(cp); owner == nil || owner.UID != c.UID {
			t.Errorf("the copy's controller = %+v, want the Canary", owner)
		}

		src.Spec.MaxReplicas = 20
		must(t, k.Update(ctx, src))
		obs := observe(t, d, c)
		must(t, d.Promote(ctx, c, obs.TargetSpec))
		get(t, k, cp)
		if cp.Spec.MaxReplicas != 20 || cp.Spec.ScaleTargetRef.Name != "podinfo-primary" {
			t.Errorf("after Promote the copy has max %d scaling %s, want 20 scaling podinfo-primary", cp.Spec.MaxReplicas, cp.Spec.ScaleTargetRef.Name)
		}
	})

	t.Run("a missing autoscaler names spec.autoscalerRef and no primary is made", func(t *testing.T) {
		c := inNamespace(t, k, "hpa-missing", "podinfo")
		c.Spec.AutoscalerRef = &v1alpha1.CanaryTargetRef{Kind: "HorizontalPodAutoscaler", Name: "gone"}
		create(t, k, podinfo(c.Namespace, 2))
		err := d.EnsurePrimary(ctx, c)
		if err == nil || !strings.Contains(err.Error(), "reading HorizontalPodAutoscaler hpa-missing/gone (spec.autoscalerRef)") {
			t.Errorf("EnsurePrimary = %v, want it to name the HorizontalPodAutoscaler and spec.autoscalerRef", err)
		}
		if err := k.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: "podinfo-primary"}, &appsv1.Deployment{}); err == nil {
			t.Error("a primary was created without its autoscaler")
		}
	})
}
