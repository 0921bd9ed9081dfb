package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/flotilla-io/flotilla/config"
)

// Objects returns the manifests in the order they are printed and applied:
// the CRDs, the Namespace, the RBAC, then the Deployment.
func Objects(o Options) ([]*unstructured.Unstructured, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	crds, err := embedded(config.CRDGlob)
	if err != nil {
		return nil, err
	}
	role, err := embedded(config.ClusterRoleFile)
	if err != nil {
		return nil, err
	}
	typed := []runtime.Object{o.namespace(), o.serviceAccount()}
	var objs []*unstructured.Unstructured
	objs = append(objs, crds...)
	for _, t := range typed {
		u, err := toUnstructured(t)
		if err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	objs = append(objs, role...)
	for _, t := range o.rbac() {
		u, err := toUnstructured(t)
		if err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	dep, err := toUnstructured(o.deployment())
	if err != nil {
		return nil, err
	}
	objs = append(objs, dep)
	for _, u := range objs {
		u.SetLabels(o.labels(u.GetLabels()))
	}
	return objs, nil
}

// embedded reads the objects of the embedded files matching glob, in file
// name order.
func embedded(glob string) ([]*unstructured.Unstructured, error) {
	files, err := fs.Glob(config.Manifests, glob)
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := fs.ReadFile(config.Manifests, f)
		if err != nil {
			return nil, err
		}
		objs, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("embedded config/%s: %w", f, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// decode reads the objects of a multi-document YAML stream.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// toUnstructured converts a typed object, dropping what the API server
// fills in (an empty creationTimestamp and status).
func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "status")
	for _, path := range [][]string{{"spec", "strategy"}, {"spec"}} {
		if v, ok, _ := unstructured.NestedMap(m, path...); ok && len(v) == 0 {
			unstructured.RemoveNestedField(m, path...)
		}
	}
	return &unstructured.Unstructured{Object: m}, nil
}

func typeMeta(gv schema.GroupVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: gv.String(), Kind: kind}
}

func (o Options) namespace() *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   typeMeta(corev1.SchemeGroupVersion, "Namespace"),
		ObjectMeta: metav1.ObjectMeta{Name: o.Namespace},
	}
}

func (o Options) serviceAccount() *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   typeMeta(corev1.SchemeGroupVersion, "ServiceAccount"),
		ObjectMeta: metav1.ObjectMeta{Name: AgentName, Namespace: o.Namespace},
	}
}

// ClusterRoleBindingName names the binding of the agent's ClusterRole; the
// namespace is part of it, so agents in two namespaces do not share one.
func ClusterRoleBindingName(namespace string) string { return AgentName + "-" + namespace }

// ClusterAdminBindingName names the optional binding to cluster-admin.
func ClusterAdminBindingName(namespace string) string {
	return AgentName + "-cluster-admin-" + namespace
}

// rbac returns the bindings of the ClusterRole (and of cluster-admin when
// asked), and the namespaced Role and RoleBinding for leader election.
func (o Options) rbac() []runtime.Object {
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: AgentName, Namespace: o.Namespace}}
	binding := func(name, role string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			TypeMeta:   typeMeta(rbacv1.SchemeGroupVersion, "ClusterRoleBinding"),
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   subject,
		}
	}
	out := []runtime.Object{binding(ClusterRoleBindingName(o.Namespace), AgentName)}
	if o.ClusterAdmin {
		out = append(out, binding(ClusterAdminBindingName(o.Namespace), "cluster-admin"))
	}
	role := &rbacv1.Role{
		TypeMeta:   typeMeta(rbacv1.SchemeGroupVersion, "Role"),
		ObjectMeta: metav1.ObjectMeta{Name: LeaderElectionName, Namespace: o.Namespace},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"},
				Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
			{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		},
	}
	rb := &rbacv1.RoleBinding{
		TypeMeta:   typeMeta(rbacv1.SchemeGroupVersion, "RoleBinding"),
		ObjectMeta: metav1.ObjectMeta{Name: LeaderElectionName, Namespace: o.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: LeaderElectionName},
		Subjects:   subject,
	}
	return append(out, role, rb)
}
