package bootstrap

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/version"
)

// labels are those of every object bootstrap creates.
func labels() map[string]string {
	return map[string]string{install.PartOfLabel: install.PartOf}
}

// rootStack returns the root Stack of the cluster's directory.
func (o *Options) rootStack() *v1alpha1.Stack {
	return &v1alpha1.Stack{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.StackKind},
		ObjectMeta: metav1.ObjectMeta{Name: o.StackName, Namespace: o.Install.Namespace, Labels: labels()},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: o.SourceName},
			Path:      "./" + o.Path,
			Interval:  metav1.Duration{Duration: o.StackInterval},
			Prune:     true,
		},
	}
}

// gitRepository returns the GitRepository of the fleet repository.
func (o *Options) gitRepository() *v1alpha1.GitRepository {
	gr := &v1alpha1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: o.SourceName, Namespace: o.Install.Namespace, Labels: labels()},
		Spec: v1alpha1.GitRepositorySpec{
			URL:      o.URL,
			Ref:      &v1alpha1.GitRepositoryRef{Branch: o.Branch},
			Interval: metav1.Duration{Duration: o.Interval},
		},
	}
	if o.hasCredentials() {
		gr.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: o.SecretName}
	}
	return gr
}

// syncObjects returns the GitRepository and the root Stack.
func (o *Options) syncObjects() ([]*unstructured.Unstructured, error) {
	return toUnstructured(o.gitRepository(), o.rootStack())
}

// secret returns the credentials Secret, with the keys a GitRepository's
// secretRef reads (see internal/source/git).
func (o *Options) secret() (*unstructured.Unstructured, error) {
	data := o.credentials().SecretData()
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: o.SecretName, Namespace: o.Install.Namespace, Labels: labels()},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	objs, err := toUnstructured(s)
	if err != nil {
		return nil, err
	}
	return objs[0], nil
}

func toUnstructured(objs ...runtime.Object) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, err
		}
		unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(m, "status")
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

// writeDirectory writes the cluster's directory: the agent's manifests,
// the sync objects and a kustomization.yaml listing them. The Secret is
// never written.
func writeDirectory(dir string, components, sync []*unstructured.Unstructured) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	header := fmt.Sprintf("# Written by flotilla bootstrap %s. The root Stack applies this directory:\n# change the agent by committing here.\n", version.Get().Version)
	files := map[string][]*unstructured.Unstructured{ComponentsFile: components, SyncFile: sync}
	for name, objs := range files {
		var buf bytes.Buffer
		buf.WriteString(header)
		if err := install.Write(&buf, objs); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + ComponentsFile + "\n  - " + SyncFile + "\n"
	return os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(k), 0o644)
}
