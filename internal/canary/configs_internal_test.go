package canary

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConfigRefsFindsEveryWayAPodUsesAConfig(t *testing.T) {
	cmRef := func(name string) corev1.LocalObjectReference { return corev1.LocalObjectReference{Name: name} }
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want map[string]bool
	}{
		{"nothing", corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}, map[string]bool{}},
		{"volumes", corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: cmRef("settings")}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}},
			{Name: "c", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		}}, map[string]bool{"ConfigMap/settings": true, "Secret/tls": true}},
		{"projected volume", corev1.PodSpec{Volumes: []corev1.Volume{{Name: "p", VolumeSource: corev1.VolumeSource{
			Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: cmRef("ca")}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: cmRef("token")}},
				{DownwardAPI: &corev1.DownwardAPIProjection{}},
			}},
		}}}}, map[string]bool{"ConfigMap/ca": true, "Secret/token": true}},
		{"envFrom of an init container", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: cmRef("init-env")}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: cmRef("init-secret")}},
		}}}}, map[string]bool{"ConfigMap/init-env": true, "Secret/init-secret": true}},
		{"env keys, literal values ignored", corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{
			{Name: "LITERAL", Value: "x"},
			{Name: "FIELD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: cmRef("settings"), Key: "level"}}},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: cmRef("api"), Key: "token"}}},
		}}}}, map[string]bool{"ConfigMap/settings": true, "Secret/api": true}},
		{"a ConfigMap and a Secret of the same name are two", corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: cmRef("app")}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "app"}}},
		}}, map[string]bool{"ConfigMap/app": true, "Secret/app": true}},
		{"empty names are left out", corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}},
		}}, map[string]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := configRefs(&corev1.PodTemplateSpec{Spec: tc.spec})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("configRefs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImagesListsInitContainersFirst(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Image: "migrate:1"}},
		Containers:     []corev1.Container{{Image: "app:2"}, {Image: "sidecar:3"}},
	}}
	if diff := cmp.Diff([]string{"migrate:1", "app:2", "sidecar:3"}, images(tpl)); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if got := images(&corev1.PodTemplateSpec{}); got != nil {
		t.Errorf("images of an empty template = %v, want nil", got)
	}
	if len(tpl.Spec.InitContainers) != 1 {
		t.Errorf("images changed the template's init containers: %v", tpl.Spec.InitContainers)
	}
}

func TestShortCutsAHashToEightDigits(t *testing.T) {
	for in, want := range map[string]string{"0123456789abcdef": "01234567", "abc": "abc", "": ""} {
		if got := short(in); got != want {
			t.Errorf("short(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReplicasAppliedByReadsTheManagedFields(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
		e := metav1.ManagedFieldsEntry{Manager: manager, Operation: op}
		if fields != "" {
			e.FieldsV1 = metav1.NewFieldsV1(fields)
		}
		return e
	}
	const replicas = `{"f:spec":{"f:replicas":{},"f:template":{}}}`
	for _, tc := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    string
	}{
		{"no managed fields", nil, ""},
		{"a Stack applies the replicas", []metav1.ManagedFieldsEntry{entry("flotilla-stack", metav1.ManagedFieldsOperationApply, replicas)}, "flotilla-stack"},
		{"the engine's own apply is not a conflict", []metav1.ManagedFieldsEntry{entry(FieldOwner, metav1.ManagedFieldsOperationApply, replicas)}, ""},
		{"an update (kubectl scale) is not an apply", []metav1.ManagedFieldsEntry{entry("kubectl", metav1.ManagedFieldsOperationUpdate, replicas)}, ""},
		{"an apply without the replicas", []metav1.ManagedFieldsEntry{entry("flotilla-stack", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:template":{}}}`)}, ""},
		{"an apply without fields", []metav1.ManagedFieldsEntry{entry("flotilla-stack", metav1.ManagedFieldsOperationApply, "")}, ""},
		{"fields that are not JSON", []metav1.ManagedFieldsEntry{entry("flotilla-stack", metav1.ManagedFieldsOperationApply, "not json")}, ""},
		{"the first applier of the replicas is named", []metav1.ManagedFieldsEntry{
			entry(FieldOwner, metav1.ManagedFieldsOperationApply, replicas),
			entry("helm", metav1.ManagedFieldsOperationApply, `{"f:metadata":{}}`),
			entry("argocd", metav1.ManagedFieldsOperationApply, replicas),
			entry("flotilla-stack", metav1.ManagedFieldsOperationApply, replicas),
		}, "argocd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{ManagedFields: tc.entries}}
			if got := replicasAppliedBy(d); got != tc.want {
				t.Errorf("replicasAppliedBy = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPrimarySpecRenamesTheAppLabelAndKeepsAnExistingSelector(t *testing.T) {
	target := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "shop", "tier": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "shop", "tier": "web"}}},
	}}
	p := &appsv1.Deployment{}
	if err := primarySpec(p, target, "hash-1"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app.kubernetes.io/name": "shop-primary", "tier": "web"}
	if diff := cmp.Diff(want, p.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, p.Spec.Template.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
	if p.Annotations[SpecAnnotation] != "hash-1" {
		t.Errorf("annotations %v, want %s=hash-1", p.Annotations, SpecAnnotation)
	}
	if got := target.Spec.Selector.MatchLabels["app.kubernetes.io/name"]; got != "shop" {
		t.Errorf("the target's selector was changed to %q", got)
	}

	// A later promotion keeps the selector the primary was created with
	// (it is immutable), even if the target's changed.
	target.Spec.Selector.MatchLabels["tier"] = "frontend"
	target.Spec.Template.Labels = nil
	if err := primarySpec(p, target, "hash-2"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, p.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector after a second copy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"app.kubernetes.io/name": "shop-primary"}, p.Spec.Template.Labels); diff != "" {
		t.Errorf("pod labels of a template without labels (-want +got):\n%s", diff)
	}
	if p.Annotations[SpecAnnotation] != "hash-2" {
		t.Errorf("annotation %q, want hash-2", p.Annotations[SpecAnnotation])
	}
}
