package controller_test

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Each misconfiguration of an ImageRepository is reported with the spec
// field that is wrong, and never with a field that is fine.
func TestImageRepositoryErrorsNameTheWrongField(t *testing.T) {
	f := newImageFixture(t)
	createSecret(t, f.ns, "no-dockerconfig", map[string][]byte{"username": []byte("u")})
	createSecret(t, f.ns, "half-cert", map[string][]byte{"tls.crt": []byte("x")})
	createSecret(t, f.ns, "empty-cert", map[string][]byte{"other": []byte("x")})
	cases := []struct {
		name   string
		mutate func(*v1alpha1.ImageRepository)
		reason string
		field  string
		not    []string
	}{
		{"missing secretRef Secret", func(r *v1alpha1.ImageRepository) { r.Spec.SecretRef.Name = "absent-creds" },
			v1alpha1.ReasonSecretNotFound, "spec.secretRef", []string{"certSecretRef", "serviceAccountName"}},
		{"missing certSecretRef Secret", func(r *v1alpha1.ImageRepository) { r.Spec.CertSecretRef.Name = "absent-ca" },
			v1alpha1.ReasonSecretNotFound, "spec.certSecretRef", []string{"spec.secretRef", "serviceAccountName"}},
		{"missing ServiceAccount", func(r *v1alpha1.ImageRepository) { r.Spec.ServiceAccountName = "absent-sa" },
			v1alpha1.ReasonSecretNotFound, "spec.serviceAccountName", []string{"secretRef"}},
		{"secretRef without .dockerconfigjson", func(r *v1alpha1.ImageRepository) { r.Spec.SecretRef.Name = "no-dockerconfig" },
			v1alpha1.ReasonInvalidSpec, "spec.secretRef", []string{"certSecretRef"}},
		{"certSecretRef with tls.crt only", func(r *v1alpha1.ImageRepository) { r.Spec.CertSecretRef.Name = "half-cert" },
			v1alpha1.ReasonInvalidSpec, "spec.certSecretRef", []string{"spec.secretRef"}},
		{"certSecretRef with no known key", func(r *v1alpha1.ImageRepository) { r.Spec.CertSecretRef.Name = "empty-cert" },
			v1alpha1.ReasonInvalidSpec, "spec.certSecretRef", []string{"spec.secretRef"}},
		{"image that does not parse", func(r *v1alpha1.ImageRepository) { r.Spec.Image = f.reg.Host + "/UPPER//bad" },
			v1alpha1.ReasonInvalidSpec, "spec.image", []string{"secretRef"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := f.createRepository(fmt.Sprintf("repo-%d", i), f.reg.Host+"/app", tc.mutate)
			repo := &v1alpha1.ImageRepository{}
			waitCondition(t, key, repo, tc.name, readyIs(metav1.ConditionFalse, tc.reason))
			msg := readyOf(repo.Status.Conditions).Message
			if !strings.Contains(msg, tc.field) {
				t.Errorf("message %q does not name %s", msg, tc.field)
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("message %q names %s, which is not wrong", msg, n)
				}
			}
		})
	}
}
