package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// changes records the clusters a watcher told its hub about.
type changes struct {
	mu    sync.Mutex
	names []string
}

func (c *changes) add(name string) {
	c.mu.Lock()
	c.names = append(c.names, name)
	c.mu.Unlock()
}

func (c *changes) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.names)
}

// newTestWatcher returns the watcher of a cluster "prod" at host, with
// the fleet's version counter and the changes it reports.
func newTestWatcher(t *testing.T, host string) (*watcher, *atomic.Uint64, *changes) {
	t.Helper()
	seq, ch := &atomic.Uint64{}, &changes{}
	w, err := newWatcher(ClusterConfig{Name: "prod", Config: &rest.Config{Host: host}}, watcherEnv{
		ping: time.Hour, seq: seq, behind: noBehind, changed: ch.add, history: newCanaryHistory(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w, seq, ch
}

// readyzServer is an API server's /readyz that answers code, which a test
// changes; it stands in for an API server that is loaded or refuses the
// credentials, which envtest cannot make it do on demand.
type readyzServer struct {
	code atomic.Int32
	url  string
}

func newReadyzServer(t *testing.T) *readyzServer {
	t.Helper()
	r := &readyzServer{}
	r.code.Store(http.StatusOK)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/readyz" {
			http.NotFound(w, req)
			return
		}
		code := int(r.code.Load())
		w.WriteHeader(code)
		if code != http.StatusOK {
			_, _ = w.Write([]byte("etcd is not ready"))
		}
	}))
	t.Cleanup(ts.Close)
	r.url = ts.URL
	return r
}

func TestProbeNeedsTwoFailuresToMarkAReachableClusterUnreachable(t *testing.T) {
	api := newReadyzServer(t)
	w, _, ch := newTestWatcher(t, api.url)
	ctx := t.Context()

	api.code.Store(http.StatusInternalServerError)
	if w.probe(ctx) || !w.unreachable() {
		t.Fatal("a first failed probe: want the cluster unreachable at once (it never answered)")
	}
	if c := w.snapshot(); !strings.HasPrefix(c.Error, "unreachable: ") || !strings.Contains(c.Error, "etcd is not ready") || c.LastSeen != nil {
		t.Errorf("after a failed first probe: error %q, lastSeen %v; want why, never seen", c.Error, c.LastSeen)
	}

	api.code.Store(http.StatusOK)
	if !w.probe(ctx) {
		t.Fatal("a successful probe returned false")
	}
	c := w.snapshot()
	if !c.Reachable || c.Error != "" || c.LastSeen == nil || c.LastSeen.Location() != time.UTC {
		t.Errorf("after a successful probe: %+v; want reachable, no error, seen (UTC)", c)
	}
	seen := *c.LastSeen

	api.code.Store(http.StatusInternalServerError)
	if w.probe(ctx) {
		t.Error("a failed probe returned true")
	}
	if c := w.snapshot(); !c.Reachable || c.Error != "" || !c.LastSeen.Equal(seen) {
		t.Errorf("after one failure of a reachable cluster: %+v; want it still reachable, as last seen", c)
	}
	w.probe(ctx)
	if c := w.snapshot(); c.Reachable || !strings.HasPrefix(c.Error, "unreachable: ") || !c.LastSeen.Equal(seen) {
		t.Errorf("after two failures in a row: %+v; want unreachable, with when it last answered", c)
	}
	if n := ch.count(); n != 3 {
		t.Errorf("the hub was told %d times, want 3: unreachable, reachable, unreachable again", n)
	}
}

func TestProbeSucceedingBetweenFailuresStartsTheCountAgain(t *testing.T) {
	api := newReadyzServer(t)
	w, _, _ := newTestWatcher(t, api.url)
	ctx := t.Context()
	w.probe(ctx)
	for i := range 3 {
		api.code.Store(http.StatusServiceUnavailable)
		w.probe(ctx)
		api.code.Store(http.StatusOK)
		w.probe(ctx)
		if w.unreachable() {
			t.Fatalf("round %d: one failure between successes marked the cluster unreachable", i)
		}
	}
}

func TestProbeNamesRefusedCredentials(t *testing.T) {
	api := newReadyzServer(t)
	api.code.Store(http.StatusUnauthorized)
	w, _, _ := newTestWatcher(t, api.url)
	w.probe(t.Context())
	if got, want := w.snapshot().Error, "unreachable: the API server refused the credentials (401)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestProbeCancelledRecordsNothing(t *testing.T) {
	api := newReadyzServer(t)
	w, seq, ch := newTestWatcher(t, api.url)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if w.probe(ctx) {
		t.Error("a probe with a cancelled context returned true")
	}
	if w.unreachable() || ch.count() != 0 || seq.Load() != 0 {
		t.Errorf("a cancelled probe changed the state: unreachable %t, %d changes, version %d", w.unreachable(), ch.count(), seq.Load())
	}
}

func TestPublishOnlyWhenSomethingChangedUnlessForced(t *testing.T) {
	w, seq, ch := newTestWatcher(t, offlineHost)
	rows := clusterRows{stacks: []StackRow{{Namespace: "a", Name: "apps", Ready: "True"}}, canaries: 1}
	steps := []struct {
		name        string
		rows        clusterRows
		force       bool
		kindErr     string
		wantVersion uint64
	}{
		{"the first rows", rows, false, "", 1},
		{"the same rows", rows, false, "", 1},
		{"the same rows, forced", rows, true, "", 2},
		{"another canary count", clusterRows{stacks: rows.stacks, canaries: 2}, false, "", 3},
		{"the same rows and a new kind error", clusterRows{stacks: rows.stacks, canaries: 2}, false, "canaries: forbidden", 4},
		{"another Stack row", clusterRows{stacks: []StackRow{{Namespace: "a", Name: "apps", Ready: "False"}}, canaries: 2}, false, "canaries: forbidden", 5},
		{"another image update count", clusterRows{stacks: []StackRow{{Namespace: "a", Name: "apps", Ready: "False"}}, canaries: 2, updates: 1}, false, "canaries: forbidden", 6},
	}
	for _, s := range steps {
		w.mu.Lock()
		w.kindErrs[kindCanaries] = s.kindErr
		w.mu.Unlock()
		w.publish(s.rows, s.force)
		if got := w.snapshot().Version; got != s.wantVersion || seq.Load() != s.wantVersion || ch.count() != int(s.wantVersion) {
			t.Errorf("%s: version %d, fleet %d, %d changes; want %d", s.name, got, seq.Load(), ch.count(), s.wantVersion)
		}
	}
	if c := w.snapshot(); c.Error != "canaries: forbidden" || c.ImageUpdates != 1 || c.Stacks[0].Ready != "False" {
		t.Errorf("state = %+v", c)
	}
}

func TestClusterErrorJoinsTheProbeAndTheKindsInTheirOrder(t *testing.T) {
	w, _, _ := newTestWatcher(t, offlineHost)
	w.kindErrs = map[string]string{
		kindImageUpdates: "imageupdates: not installed",
		kindCanaries:     "canaries: forbidden",
		kindStacks:       "stacks: forbidden",
	}
	w.pingErr = "unreachable: connection refused"
	want := "unreachable: connection refused; stacks: forbidden; canaries: forbidden; imageupdates: not installed"
	if got := w.errorLocked(); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	w.pingErr, w.kindErrs = "", map[string]string{}
	if got := w.errorLocked(); got != "" {
		t.Errorf("error without any = %q, want none", got)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	w, _, _ := newTestWatcher(t, offlineHost)
	seen := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.state.LastSeen = &seen
	w.state.Stacks = []StackRow{{Name: "apps", Ready: "True"}}
	c := w.snapshot()
	c.Stacks[0].Ready = "False"
	*c.LastSeen = seen.Add(time.Hour)
	again := w.snapshot()
	if again.Stacks[0].Ready != "True" || !again.LastSeen.Equal(seen) {
		t.Errorf("changing a snapshot changed the watcher's state: %+v", again)
	}
}

func TestGetOfAnUnreachableClusterWithoutCacheSaysSo(t *testing.T) {
	w, _, _ := newTestWatcher(t, offlineHost)
	markUnreachable(w)
	err := w.get(t.Context(), kindSources, client.ObjectKey{Namespace: "flux", Name: "fleet"}, &v1alpha1.GitRepository{})
	if want := "gitrepositories flux/fleet: the cluster prod is unreachable"; err == nil || err.Error() != want {
		t.Errorf("get = %v, want %q", err, want)
	}
	if got := w.sourceRevision(t.Context(), "flux", "fleet"); got != "" {
		t.Errorf("sourceRevision of an unreadable source = %q, want none", got)
	}
}

func TestDependenciesThatCannotBeReadAreUnknown(t *testing.T) {
	w, _, _ := newTestWatcher(t, offlineHost)
	markUnreachable(w)
	st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apps"}}
	st.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "infra"}, {Namespace: "ops", Name: "crds"}}
	want := []Dependency{{Namespace: "team-a", Name: "infra", Ready: "Unknown"}, {Namespace: "ops", Name: "crds", Ready: "Unknown"}}
	if diff := cmp.Diff(want, w.dependencies(t.Context(), st)); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
	if got := w.dependencies(t.Context(), &v1alpha1.Stack{}); got == nil || len(got) != 0 {
		t.Errorf("dependencies of a Stack without = %#v, want [] in JSON", got)
	}
}

func TestCanaryEventsRecordTheWeightAndATombstoneForgetsIt(t *testing.T) {
	w, _, ch := newTestWatcher(t, offlineHost)
	c := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	c.Status.CanaryWeight, c.Status.Phase = 10, "Progressing"
	w.event(kindCanaries, c, false)
	w.event(kindStacks, c, false) // a Stack's event records no weight
	if pts := w.env.history.of("prod", "apps", "web"); len(pts) != 1 || pts[0].Weight != 10 || pts[0].Phase != "Progressing" {
		t.Errorf("history after a canary event = %+v, want one point at 10, Progressing", pts)
	}
	w.event(kindCanaries, toolscache.DeletedFinalStateUnknown{Key: "apps/web", Obj: c}, true)
	if pts := w.env.history.of("prod", "apps", "web"); len(pts) != 0 {
		t.Errorf("history after the canary's tombstone = %+v, want none", pts)
	}
	if ch.count() != 3 {
		t.Errorf("%d changes told, want one per event (3)", ch.count())
	}
}
