package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Defaults of the repository's wiring, as `flotilla bootstrap` makes it.
const (
	// DefaultNamespace is where the root Stack and the GitRepository live.
	DefaultNamespace = "flotilla-system"
	// DefaultSource is the name of the GitRepository of the fleet repository.
	DefaultSource = "fleet"
)

// SourceRef names the GitRepository that serves the fleet repository in
// every cluster. Stacks that read another source are not planned.
type SourceRef struct {
	Namespace, Name string
}

// String is namespace/name.
func (s SourceRef) String() string { return s.Namespace + "/" + s.Name }

// rootStack is the Stack `flotilla bootstrap` creates for a cluster: it
// applies clusters/<name> from the GitRepository src, in src's namespace.
func rootStack(cluster string, src SourceRef) *v1alpha1.Stack {
	return &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Name: RootStack, Namespace: src.Namespace},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: "GitRepository", Name: src.Name},
			Path:      "clusters/" + cluster,
			Prune:     true,
		},
	}
}

// stackID is a Stack's namespace/name.
type stackID struct{ namespace, name string }

// stacksOf returns the Stacks among a cluster root's objects, by identity.
// It refuses a root the agent cannot apply because an object plan reads
// has no namespace (rootNamespaces).
func stacksOf(objs []*unstructured.Unstructured) (map[stackID]*v1alpha1.Stack, error) {
	if err := rootNamespaces(objs); err != nil {
		return nil, err
	}
	out := map[stackID]*v1alpha1.Stack{}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		if gvk.Group != v1alpha1.GroupVersion.Group || gvk.Kind != v1alpha1.StackKind {
			continue
		}
		var st v1alpha1.Stack
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &st); err != nil {
			return nil, fmt.Errorf("decoding Stack %s: %w (fix the Stack's fields)", u.GetName(), err)
		}
		out[stackID{st.Namespace, st.Name}] = &st
	}
	return out, nil
}

// rootNamespaces refuses Stacks, ConfigMaps and Secrets without a
// namespace in a cluster's root. The root Stack has no targetNamespace, and
// the API server refuses a namespaced object without one, so the agent
// refuses the whole revision of the root: plan says so instead of guessing
// a namespace.
func rootNamespaces(objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		if u.GetNamespace() != "" || !namespacedKindPlanReads(u.GroupVersionKind()) {
			continue
		}
		return fmt.Errorf("%s %s has no metadata.namespace: the cluster's root is applied without a target namespace, "+
			"and the API server refuses a namespaced object without one, so the agent would refuse this revision of the root: "+
			"set metadata.namespace (the agent's objects live in %s)", u.GetKind(), u.GetName(), DefaultNamespace)
	}
	return nil
}

// namespacedKindPlanReads says whether gvk is a Stack, ConfigMap or Secret.
func namespacedKindPlanReads(gvk schema.GroupVersionKind) bool {
	switch gvk.GroupKind() {
	case schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: v1alpha1.StackKind}, schema.GroupKind{Kind: "ConfigMap"}, schema.GroupKind{Kind: "Secret"}:
		return true
	}
	return false
}

// readsSource says whether st renders the fleet repository.
func readsSource(st *v1alpha1.Stack, src SourceRef) bool {
	ref := st.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = st.Namespace
	}
	return ref.Kind == "GitRepository" && ref.Name == src.Name && ns == src.Namespace
}

// orderStacks returns the identities of both sets, the Stacks a Stack
// dependsOn first, by name otherwise; a cycle falls back to names.
func orderStacks(sets ...map[stackID]*v1alpha1.Stack) []stackID {
	deps := dependencies(sets...)
	ids := make([]stackID, 0, len(deps))
	for id := range deps {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].namespace+"/"+ids[i].name < ids[j].namespace+"/"+ids[j].name })
	var out []stackID
	done := map[stackID]bool{}
	for len(out) < len(ids) {
		progress := false
		for _, id := range ids {
			if !done[id] && depsDone(deps[id], deps, done) {
				done[id], progress = true, true
				out = append(out, id)
			}
		}
		if !progress { // a cycle: the rest by name
			for _, id := range ids {
				if !done[id] {
					done[id] = true
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// dependencies maps each Stack of the sets to the Stacks it dependsOn; the
// first set that holds a Stack wins.
func dependencies(sets ...map[stackID]*v1alpha1.Stack) map[stackID][]stackID {
	deps := map[stackID][]stackID{}
	for _, set := range sets {
		for id, st := range set {
			if _, ok := deps[id]; ok {
				continue
			}
			deps[id] = []stackID{}
			for _, d := range st.Spec.DependsOn {
				ns := d.Namespace
				if ns == "" {
					ns = id.namespace
				}
				deps[id] = append(deps[id], stackID{ns, d.Name})
			}
		}
	}
	return deps
}

func depsDone(ds []stackID, all map[stackID][]stackID, done map[stackID]bool) bool {
	for _, d := range ds {
		if _, known := all[d]; known && !done[d] {
			return false
		}
	}
	return true
}

// objectReader serves the ConfigMaps and Secrets of a cluster's root render
// to stackspec.Variables, as the API server would once the root is applied.
type objectReader struct {
	objs map[string]*unstructured.Unstructured // kind/namespace/name
}

var _ client.Reader = objectReader{}

func newObjectReader(objs []*unstructured.Unstructured) objectReader {
	r := objectReader{objs: map[string]*unstructured.Unstructured{}}
	for _, u := range objs {
		if u.GroupVersionKind().Group != "" {
			continue
		}
		r.objs[u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName()] = u
	}
	return r
}

// errListUnsupported is what List answers: Variables never lists.
var errListUnsupported = errors.New("plan reads the repository's ConfigMaps and Secrets by name only")

// Get returns the named ConfigMap or Secret, or a NotFound error.
func (r objectReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	var kind, resource string
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind, resource = "ConfigMap", "configmaps"
	case *corev1.Secret:
		kind, resource = "Secret", "secrets"
	default:
		return fmt.Errorf("plan cannot read a %T from the repository", obj)
	}
	u, ok := r.objs[kind+"/"+key.Namespace+"/"+key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, key.Name)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return fmt.Errorf("%s %s/%s in the repository: %w", kind, key.Namespace, key.Name, err)
	}
	if s, ok := obj.(*corev1.Secret); ok {
		for k, v := range s.StringData { // as the API server stores it
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[k] = []byte(v)
		}
	}
	return nil
}

// List is not supported.
func (r objectReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errListUnsupported
}
