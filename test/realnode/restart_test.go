package realnode

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// testRestartWithEmptyData deletes the agent's Pod: the new one starts
// with an empty /data (emptyDir), fetches every repository again and
// re-applies every Stack once (its memory of applied renders is gone).
// Server-side apply of objects that are as Git says writes nothing, so no
// object the Stacks applied may change, and each Stack renders once.
func testRestartWithEmptyData(t *testing.T, f *fleet) {
	ctx := context.Background()
	before := snapshotStacks(t)
	pods := agentPods(t)
	if len(pods) != 1 {
		t.Fatalf("want 1 agent Pod before the restart, got %d\n%s", len(pods), diagnostics(t))
	}
	old := pods[0]
	if err := cluster.Client.Delete(ctx, &old); err != nil {
		t.Fatalf("deleting the agent's Pod: %v", err)
	}
	var fresh corev1.Pod
	eventually(t, 2*time.Minute, "a new agent Pod Ready", func() (bool, string) {
		var states []string
		for _, p := range agentPods(t) {
			if p.Name != old.Name && podReady(&p) {
				fresh = p
				return true, ""
			}
			states = append(states, podReport(&p))
		}
		return false, strings.Join(states, "\n")
	})
	metricsURL := fmt.Sprintf("http://%s:8080/metrics", fresh.Status.PodIP)

	// Every Stack renders once and stays Ready at the same revision: the
	// restart changed nothing in Git or in the cluster.
	flapped := map[client.ObjectKey]string{}
	eventually(t, 2*time.Minute, "every Stack rendered by the new agent and Ready at its revision", func() (bool, string) {
		renders, err := renderCounts(metricsURL)
		if err != nil {
			return false, err.Error()
		}
		var waiting []string
		for key, snap := range before {
			var st v1alpha1.Stack
			if err := cluster.Client.Get(ctx, key, &st); err != nil {
				return false, err.Error()
			}
			if !stackspec.ReadyAt(&st, snap.revision) && flapped[key] == "" {
				flapped[key] = describeStack(&st)
			}
			if renders[key] < 1 || !stackspec.ReadyAt(&st, snap.revision) {
				waiting = append(waiting, fmt.Sprintf("%s (renders %d)", describeStack(&st), renders[key]))
			}
		}
		return len(waiting) == 0, strings.Join(waiting, "\n")
	})
	for key, state := range flapped {
		t.Errorf("Stack %s was not Ready at its revision while the new agent started: %s", key, state)
	}
	// A few reconciles later (the app's Stack has a 30s interval; the Git
	// repositories are fetched every 5s), still one render per Stack.
	time.Sleep(10 * time.Second)
	renders, err := renderCounts(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	for key := range before {
		if renders[key] != 1 {
			t.Errorf("Stack %s rendered %d times after the restart, want once", key, renders[key])
		}
	}
	after := snapshotStacks(t)
	for key, snap := range before {
		if got := after[key].revision; got != snap.revision {
			t.Errorf("Stack %s is at %s after the restart, want %s", key, got, snap.revision)
		}
		for obj, fp := range snap.objects {
			if got, ok := after[key].objects[obj]; !ok {
				t.Errorf("%s of Stack %s is gone after the restart", obj, key)
			} else if got != fp {
				t.Errorf("%s of Stack %s was written after the restart:\nbefore %s\nafter  %s", obj, key, fp, got)
			}
		}
	}
}

// stackSnapshot is what a Stack applied, as the cluster holds it.
type stackSnapshot struct {
	revision string
	// objects maps each inventory object to its writeFingerprint.
	objects map[string]string
}

// snapshotStacks reads every Stack and the objects of its inventory.
func snapshotStacks(t *testing.T) map[client.ObjectKey]stackSnapshot {
	t.Helper()
	ctx := context.Background()
	var stacks v1alpha1.StackList
	if err := cluster.Client.List(ctx, &stacks); err != nil {
		t.Fatal(err)
	}
	out := map[client.ObjectKey]stackSnapshot{}
	for _, st := range stacks.Items {
		if !stackspec.ReadyAt(&st, "") {
			t.Fatalf("want every Stack Ready before the restart: %s", describeStack(&st))
		}
		snap := stackSnapshot{revision: st.Status.LastAppliedRevision, objects: map[string]string{}}
		for _, e := range st.Status.Inventory {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(schema.GroupVersionKind{Group: e.Group, Version: e.Version, Kind: e.Kind})
			id := fmt.Sprintf("%s/%s %s/%s", e.Group, e.Kind, e.Namespace, e.Name)
			if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: e.Name}, u); err != nil {
				t.Fatalf("reading %s of the inventory of Stack %s/%s: %v", id, st.Namespace, st.Name, err)
			}
			snap.objects[id] = writeFingerprint(u)
		}
		out[client.ObjectKeyFromObject(&st)] = snap
	}
	return out
}

// writeFingerprint changes whenever anyone writes an object's metadata or
// spec: its generation, labels, annotations and the managedFields entries
// of the object itself (a server-side apply that changes something
// updates its manager's entry and time; one that changes nothing is not
// persisted). For objects without a status it is the resourceVersion too.
// Status writes by the objects' controllers (a Deployment's replicas
// after its Pod is replaced, a Stack's conditions) do not count: they are
// not the agent applying.
func writeFingerprint(u *unstructured.Unstructured) string {
	var b strings.Builder
	fmt.Fprintf(&b, "generation=%d labels=%v annotations=%v", u.GetGeneration(), u.GetLabels(), u.GetAnnotations())
	for _, m := range u.GetManagedFields() {
		if m.Subresource != "" {
			continue
		}
		fields := ""
		if m.FieldsV1 != nil {
			fields = m.FieldsV1.GetRawString()
		}
		fmt.Fprintf(&b, " [%s %s %s %s %s]", m.Manager, m.Operation, m.APIVersion, timeOf(m.Time), fields)
	}
	if _, hasStatus := u.Object["status"]; !hasStatus {
		b.WriteString(" resourceVersion=" + u.GetResourceVersion())
	}
	return b.String()
}

func timeOf(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// renderCounts reads flotilla_render_total of each Stack from the agent's
// metrics (Pod IPs are reachable from the host).
func renderCounts(url string) (map[client.ObjectKey]int, error) {
	status, body, err := httpGet(url)
	if err != nil || status != 200 {
		return nil, fmt.Errorf("GET %s: status %d, error %v", url, status, err)
	}
	out := map[client.ObjectKey]int{}
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "flotilla_render_total{") {
			continue
		}
		var ns, name string
		var n float64
		labels, value, _ := strings.Cut(strings.TrimPrefix(line, "flotilla_render_total"), " ")
		for _, kv := range strings.Split(strings.Trim(labels, "{}"), ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "namespace":
				ns = strings.Trim(v, `"`)
			case "stack":
				name = strings.Trim(v, `"`)
			}
		}
		if _, err := fmt.Sscan(value, &n); err != nil {
			return nil, fmt.Errorf("%s: %w", line, err)
		}
		out[client.ObjectKey{Namespace: ns, Name: name}] = int(n)
	}
	return out, nil
}
