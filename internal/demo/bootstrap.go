package demo

// TEMPORARY until internal/bootstrap lands: installs the CRDs from the
// checkout and creates the sync objects.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func (f *fleet) bootstrap(ctx context.Context, c *cluster) error {
	root, err := checkoutRoot()
	if err != nil {
		return err
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, n := range []string{"flotilla.io_gitrepositories.yaml", "flotilla.io_stacks.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "config", "crd", "bases", n))
		if err != nil {
			return err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			return err
		}
		crds = append(crds, &crd)
	}
	if _, err := envtest.InstallCRDs(c.config, envtest.CRDInstallOptions{CRDs: crds}); err != nil {
		return err
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: "fleet-auth"},
			StringData: map[string]string{"username": f.repo.username, "password": f.repo.password}},
		&v1alpha1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: sourceName},
			Spec: v1alpha1.GitRepositorySpec{URL: f.repo.url, Interval: metav1.Duration{Duration: time.Minute},
				Ref: &v1alpha1.GitRepositoryRef{Branch: "main"}, SecretRef: &v1alpha1.LocalObjectReference{Name: "fleet-auth"}},
		},
		&v1alpha1.Stack{
			ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: rootStackName},
			Spec: v1alpha1.StackSpec{
				SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: sourceName},
				Path:      "./clusters/" + c.name, Interval: metav1.Duration{Duration: 10 * time.Minute}, Prune: true,
			},
		},
	}
	for _, o := range objs {
		if err := c.client.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	f.o.Report.Step("✔ bootstrapped %s", c.name)
	return nil
}
