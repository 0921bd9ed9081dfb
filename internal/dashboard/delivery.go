package dashboard

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// maxHistory is how many weight points a canary keeps.
const maxHistory = 100

// canaryHistory records each canary's weight and phase at every change
// the server sees, since it started.
type canaryHistory struct {
	mu     sync.Mutex
	points map[string][]WeightPoint // cluster/namespace/name
}

func newCanaryHistory() *canaryHistory {
	return &canaryHistory{points: map[string][]WeightPoint{}}
}

func historyKey(cluster, namespace, name string) string {
	return cluster + "/" + namespace + "/" + name
}

// record adds a point when the weight or the phase changed; a deleted
// canary loses its history.
func (h *canaryHistory) record(cluster string, c *v1alpha1.Canary, deleted bool) {
	key := historyKey(cluster, c.Namespace, c.Name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if deleted {
		delete(h.points, key)
		return
	}
	pts := h.points[key]
	p := WeightPoint{Time: time.Now().UTC(), Weight: c.Status.CanaryWeight, Phase: string(c.Status.Phase)}
	if n := len(pts); n > 0 && pts[n-1].Weight == p.Weight && pts[n-1].Phase == p.Phase {
		return
	}
	pts = append(pts, p)
	if len(pts) > maxHistory {
		pts = slices.Delete(pts, 0, len(pts)-maxHistory)
	}
	h.points[key] = pts
}

func (h *canaryHistory) of(cluster, namespace, name string) []WeightPoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.points[historyKey(cluster, namespace, name)])
}

// Delivery returns the delivery page: every cluster's canaries, image
// policies and image updates, from the caches.
func (s *Server) Delivery() Delivery {
	d := Delivery{Canaries: []CanaryRow{}, ImagePolicies: []ImagePolicyRow{}, ImageUpdates: []ImageUpdateRow{}}
	ctx := context.Background()
	for _, w := range s.watchers {
		c, p, u := len(d.Canaries), len(d.ImagePolicies), len(d.ImageUpdates)
		if l := (&v1alpha1.CanaryList{}); w.list(ctx, kindCanaries, l) {
			for i := range l.Items {
				d.Canaries = append(d.Canaries, canaryRow(w.name, &l.Items[i], s.history))
			}
		}
		if l := (&v1alpha1.ImagePolicyList{}); w.list(ctx, kindImagePolicies, l) {
			for i := range l.Items {
				d.ImagePolicies = append(d.ImagePolicies, imagePolicyRow(w.name, &l.Items[i]))
			}
		}
		if l := (&v1alpha1.ImageUpdateList{}); w.list(ctx, kindImageUpdates, l) {
			for i := range l.Items {
				d.ImageUpdates = append(d.ImageUpdates, s.imageUpdateRow(w.name, &l.Items[i]))
			}
		}
		sortByName(d.Canaries[c:], func(r CanaryRow) (string, string) { return r.Namespace, r.Name })
		sortByName(d.ImagePolicies[p:], func(r ImagePolicyRow) (string, string) { return r.Namespace, r.Name })
		sortByName(d.ImageUpdates[u:], func(r ImageUpdateRow) (string, string) { return r.Namespace, r.Name })
	}
	return d
}

// readyOf returns the Ready condition's status (Unknown without one) and
// message.
func readyOf(conds []metav1.Condition) (string, string) {
	c := meta.FindStatusCondition(conds, v1alpha1.ReadyCondition)
	if c == nil {
		return string(metav1.ConditionUnknown), ""
	}
	return string(c.Status), c.Message
}

func canaryRow(cluster string, c *v1alpha1.Canary, h *canaryHistory) CanaryRow {
	_, msg := readyOf(c.Status.Conditions)
	r := CanaryRow{
		Cluster: cluster, Namespace: c.Namespace, Name: c.Name,
		Phase: string(c.Status.Phase), Weight: c.Status.CanaryWeight, FailedChecks: c.Status.FailedChecks,
		Iterations: c.Status.Iterations, Images: c.Status.CanaryImages, Message: msg,
		History: h.of(cluster, c.Namespace, c.Name),
	}
	for _, m := range c.Status.LastMetrics {
		r.Metrics = append(r.Metrics, Metric{Name: m.Name, Value: m.Value, OK: m.Passed, Message: m.Message})
	}
	return r
}

func imagePolicyRow(cluster string, p *v1alpha1.ImagePolicy) ImagePolicyRow {
	ready, msg := readyOf(p.Status.Conditions)
	r := ImagePolicyRow{Cluster: cluster, Namespace: p.Namespace, Name: p.Name, Ready: ready, Message: msg}
	if ref := p.Status.LatestRef; ref != nil {
		r.Image, r.Tag = ref.Name, ref.Tag
	}
	if ref := p.Status.ObservedPreviousRef; ref != nil {
		r.Previous = ref.Tag
	}
	for _, q := range p.Status.QuarantinedTags {
		r.Quarantined = append(r.Quarantined, q.Tag)
	}
	return r
}

func (s *Server) imageUpdateRow(cluster string, u *v1alpha1.ImageUpdate) ImageUpdateRow {
	ready, msg := readyOf(u.Status.Conditions)
	r := ImageUpdateRow{Cluster: cluster, Namespace: u.Namespace, Name: u.Name, Ready: ready, Message: msg, LastCommit: u.Status.LastPushCommit}
	if t := u.Status.LastPushTime; t != nil {
		pushed := t.UTC()
		r.LastPush = &pushed
	}
	if s.repo != nil && r.LastCommit != "" {
		if c := s.repo.commit(r.LastCommit); c != nil {
			r.CommitMessage = subject(c.Message)
		}
	}
	return r
}

// sortByName orders one cluster's rows by namespace and name.
func sortByName[T any](rows []T, key func(T) (string, string)) {
	slices.SortFunc(rows, func(a, b T) int {
		an, am := key(a)
		bn, bm := key(b)
		return cmp.Or(cmp.Compare(an, bn), cmp.Compare(am, bm))
	})
}
