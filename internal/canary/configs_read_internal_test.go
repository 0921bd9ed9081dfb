package canary

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

const configMarker = "tr4cked-s3cret-value"

// usingConfigs is a Deployment of apps whose pods read the ConfigMap
// settings (a volume), the Secret creds (env) and the optional ConfigMap
// absent (envFrom).
func usingConfigs() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "podinfo"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "settings", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}},
			Containers: []corev1.Container{{Name: "app", Image: "podinfo:6.0.0",
				Env: []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}}},
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}}},
			}},
		}}},
	}
}

func configObjects(token string, binary []byte) []client.Object {
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "settings"}, Data: map[string]string{"level": "info"}, BinaryData: map[string][]byte{"logo": binary}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "creds"}, Data: map[string][]byte{"token": []byte(token)}},
	}
}

func trackedWith(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) (map[string]string, error) {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(v1alpha1.NewScheme()).WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
	return NewDeployments(c).trackedConfigs(context.Background(), usingConfigs())
}

func TestTrackedConfigsHashWithoutValuesAndSkipAMissingOptional(t *testing.T) {
	got, err := trackedWith(t, interceptor.Funcs{}, configObjects(configMarker, []byte{1, 2})...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["ConfigMap/settings"]) != 16 || len(got["Secret/creds"]) != 16 {
		t.Fatalf("trackedConfigs = %v, want 16-digit hashes of ConfigMap/settings and Secret/creds only", got)
	}
	for ref, h := range got {
		if strings.Contains(h, configMarker) || strings.Contains(h, "info") {
			t.Errorf("%s tracked as %q, which shows a value", ref, h)
		}
	}
	again, _ := trackedWith(t, interceptor.Funcs{}, configObjects(configMarker, []byte{1, 2})...)
	if again["Secret/creds"] != got["Secret/creds"] || again["ConfigMap/settings"] != got["ConfigMap/settings"] {
		t.Errorf("the same data hashed differently: %v then %v", got, again)
	}
	changed, _ := trackedWith(t, interceptor.Funcs{}, configObjects("rotated-"+configMarker, []byte{1, 3})...)
	if changed["Secret/creds"] == got["Secret/creds"] {
		t.Error("a rotated Secret keeps its hash: the canary would not be analysed again")
	}
	if changed["ConfigMap/settings"] == got["ConfigMap/settings"] {
		t.Error("a ConfigMap whose binaryData changed keeps its hash")
	}
}

func TestTrackedConfigsOfAPodUsingNoneIsNil(t *testing.T) {
	c := fake.NewClientBuilder().Build()
	got, err := NewDeployments(c).trackedConfigs(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "bare"}})
	if err != nil || got != nil {
		t.Errorf("trackedConfigs = %v, %v; want nil, nil", got, err)
	}
}

func TestTrackedConfigsReadErrorNamesTheConfigAndTheDeployment(t *testing.T) {
	_, err := trackedWith(t, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, key.Name, errors.New("no"))
			}
			return c.Get(ctx, key, obj, opts...)
		},
	}, configObjects(configMarker, nil)...)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("trackedConfigs = %v, want the Forbidden as its cause", err)
	}
	if want := "reading apps/Secret/creds used by Deployment podinfo"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if strings.Contains(err.Error(), configMarker) {
		t.Errorf("error %q shows the Secret's value", err)
	}
}
