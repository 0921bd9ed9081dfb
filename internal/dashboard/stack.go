package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// healthReaders bounds the concurrent reads of a Stack page's inventory.
const healthReaders = 8

// errUnknownCluster is a cluster name that is not one of the kubeconfig's.
var errUnknownCluster = errors.New("unknown cluster")

// serveStack is GET /api/clusters/{cluster}/stacks/{namespace}/{name}.
func (s *Server) serveStack(w http.ResponseWriter, r *http.Request) {
	d, err := s.StackDetail(r.Context(), r.PathValue("cluster"), r.PathValue("namespace"), r.PathValue("name"))
	if err != nil {
		code, msg := statusError(err)
		if errors.Is(err, errUnknownCluster) {
			code, msg = http.StatusNotFound, err.Error()
		}
		writeError(w, code, msg)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// watcherOf returns the watcher of a cluster, or an error wrapping
// errUnknownCluster.
func (s *Server) watcherOf(cluster string) (*watcher, error) {
	w, ok := s.byName[cluster]
	if !ok {
		return nil, fmt.Errorf("%w %q: the dashboard shows the contexts %v", errUnknownCluster, cluster, s.clusterNames())
	}
	return w, nil
}

func (s *Server) clusterNames() []string {
	names := make([]string, 0, len(s.watchers))
	for _, w := range s.watchers {
		names = append(names, w.name)
	}
	return names
}

// StackDetail reads the Stack page of a Stack: its row, conditions,
// inventory with each object's health, events, drift, dependencies and
// commit. The Stack comes from the cache when it has it; events and health
// are read now.
func (s *Server) StackDetail(ctx context.Context, cluster, namespace, name string) (StackDetail, error) {
	w, err := s.watcherOf(cluster)
	if err != nil {
		return StackDetail{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	key := client.ObjectKey{Namespace: namespace, Name: name}
	st, ok := w.cachedStack(ctx, key)
	if !ok {
		st = &v1alpha1.Stack{}
		if err := w.direct.Get(ctx, key, st); err != nil {
			return StackDetail{}, fmt.Errorf("reading Stack %s in %s: %w", key, cluster, err)
		}
	}
	srcNS, srcName := st.SourceKey()
	d := StackDetail{
		Cluster:    cluster,
		Stack:      stackRow(st, w.sourceRevision(ctx, srcNS, srcName), s.behind, time.Now()),
		Source:     st.Spec.SourceRef.Kind + "/" + srcNS + "/" + srcName,
		Path:       st.Spec.Path,
		Conditions: make([]Condition, 0, len(st.Status.Conditions)),
		Drift:      driftOf(st.Status.Drift),
		DependsOn:  w.dependencies(ctx, st),
	}
	for _, c := range st.Status.Conditions {
		d.Conditions = append(d.Conditions, conditionOf(c))
	}
	d.Tree = w.tree(ctx, st.Status.Inventory)
	d.Events = w.events(ctx, st)
	if s.repo != nil {
		d.Commit = s.repo.commit(st.Status.LastAppliedRevision)
	}
	return d, nil
}

// sourceRevision is the revision a GitRepository fetched last; "" when it
// has none or cannot be read.
func (w *watcher) sourceRevision(ctx context.Context, namespace, name string) string {
	src := &v1alpha1.GitRepository{}
	if err := w.direct.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, src); err != nil || src.Status.Artifact == nil {
		return ""
	}
	return src.Status.Artifact.Revision
}

// dependencies reads the readiness of each Stack of dependsOn.
func (w *watcher) dependencies(ctx context.Context, st *v1alpha1.Stack) []Dependency {
	deps := make([]Dependency, 0, len(st.Spec.DependsOn))
	for _, ref := range st.Spec.DependsOn {
		d := Dependency{Namespace: cmp.Or(ref.Namespace, st.Namespace), Name: ref.Name, Ready: string(metav1.ConditionUnknown)}
		key := client.ObjectKey{Namespace: d.Namespace, Name: d.Name}
		dep, ok := w.cachedStack(ctx, key)
		if !ok {
			dep = &v1alpha1.Stack{}
			if err := w.direct.Get(ctx, key, dep); err != nil {
				dep = nil
			}
		}
		if dep != nil {
			d.Ready, _ = readyOf(dep.Status.Conditions)
		}
		deps = append(deps, d)
	}
	return deps
}

// driftOf converts status.drift, newest first.
func driftOf(records []v1alpha1.DriftRecord) []Drift {
	out := make([]Drift, 0, len(records))
	for _, r := range records {
		out = append(out, Drift{Object: r.Object, Fields: r.Fields, Manager: r.Manager, Action: r.Action, Time: r.Time.UTC()})
	}
	slices.SortStableFunc(out, func(a, b Drift) int { return b.Time.Compare(a.Time) })
	return out
}

// tree reads every inventory object's health, healthReaders at a time,
// and groups them by namespace (cluster-scoped objects under "").
func (w *watcher) tree(ctx context.Context, inventory []v1alpha1.InventoryEntry) []NamespaceNode {
	objs := stackspec.FromInventory(inventory)
	nodes := make([]ObjectNode, len(objs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(healthReaders)
	for i, m := range objs {
		g.Go(func() error {
			nodes[i] = ObjectNode{Group: m.Group, Version: m.Version, Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
			nodes[i].Health, nodes[i].Message = w.health(ctx, m)
			return nil
		})
	}
	_ = g.Wait() // every read reports its own error in its node
	slices.SortFunc(nodes, func(a, b ObjectNode) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	tree := []NamespaceNode{}
	for _, n := range nodes {
		if len(tree) == 0 || tree[len(tree)-1].Namespace != n.Namespace {
			tree = append(tree, NamespaceNode{Namespace: n.Namespace})
		}
		last := &tree[len(tree)-1]
		last.Objects = append(last.Objects, n)
	}
	return tree
}

// health reads one object and returns kstatus's verdict (with the apply
// engine's per-kind rules) and, unless Current, its message. A Secret is
// read as metadata only: its values never reach the dashboard.
func (w *watcher) health(ctx context.Context, m apply.ObjMetadata) (string, string) {
	u, err := w.readObject(ctx, m)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return status.NotFoundStatus.String(), ""
	case err != nil:
		return status.UnknownStatus.String(), apply.Reason(err)
	}
	res, err := apply.ComputeStatus(u)
	if err != nil {
		return status.UnknownStatus.String(), err.Error()
	}
	if res.Status == status.CurrentStatus {
		return res.Status.String(), ""
	}
	return res.Status.String(), res.Message
}

func (w *watcher) readObject(ctx context.Context, m apply.ObjMetadata) (*unstructured.Unstructured, error) {
	if m.Group == "" && m.Kind == "Secret" {
		pm := &metav1.PartialObjectMetadata{}
		pm.SetGroupVersionKind(m.GroupVersionKind())
		if err := w.direct.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Name}, pm); err != nil {
			return nil, err
		}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pm)
		return &unstructured.Unstructured{Object: obj}, err
	}
	u := m.Unstructured()
	return u, w.direct.Get(ctx, client.ObjectKeyFromObject(u), u)
}

// events lists the Events about a Stack, newest first; none when they
// cannot be read (the page shows the rest).
func (w *watcher) events(ctx context.Context, st *v1alpha1.Stack) []Event {
	var list corev1.EventList
	err := w.direct.List(ctx, &list, client.InNamespace(st.Namespace), client.MatchingFields{
		"involvedObject.kind": v1alpha1.StackKind, "involvedObject.name": st.Name,
	})
	out := []Event{}
	if err != nil {
		w.env.log.V(1).Info("listing events", "cluster", w.name, "stack", client.ObjectKeyFromObject(st).String(), "error", err.Error())
		return out
	}
	for _, ev := range list.Items {
		if ev.InvolvedObject.APIVersion != "" && ev.InvolvedObject.APIVersion != v1alpha1.GroupVersion.String() {
			continue
		}
		out = append(out, Event{Type: ev.Type, Reason: ev.Reason, Message: ev.Message, Count: max(ev.Count, 1), Time: eventTime(ev)})
	}
	slices.SortStableFunc(out, func(a, b Event) int { return b.Time.Compare(a.Time) })
	return out
}

// eventTime is when an event was last seen, from whichever fields its
// writer set.
func eventTime(ev corev1.Event) time.Time {
	t := cmp.Or(ev.LastTimestamp.Time, ev.EventTime.Time, ev.FirstTimestamp.Time, ev.CreationTimestamp.Time)
	if ev.Series != nil {
		t = cmp.Or(ev.Series.LastObservedTime.Time, t)
	}
	return t.UTC()
}
