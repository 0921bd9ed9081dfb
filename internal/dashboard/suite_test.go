package dashboard

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// envA and envB are two clusters every integration test shares; a test
// that stops a cluster starts its own.
var envA, envB *controlplane.Env

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(controlplane.RunTests(m, &envA, func(*controlplane.Env) (func(), error) {
		var err error
		envB, err = controlplane.Start()
		return func() { envB.Stop() }, err
	}))
}

// testNamespace counts the namespaces the tests create, so each test has
// its own.
var testNamespace atomic.Int32

// newNamespace creates a fresh namespace in every env given.
func newNamespace(t *testing.T, envs ...*controlplane.Env) string {
	t.Helper()
	name := fmt.Sprintf("dash-%d", testNamespace.Add(1))
	for _, env := range envs {
		if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// startServer runs a Server on the clusters and serves its handler; both
// stop at the end of the test.
func startServer(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	if o.PingInterval == 0 {
		o.PingInterval = 200 * time.Millisecond
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	ts := httptestServer(t, s)
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s, ts
}

// httptestServer serves s's handler until the test ends.
func httptestServer(t *testing.T, s *Server) *httptest.Server {
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// cluster names an env for a Server.
func cluster(name string, env *controlplane.Env) ClusterConfig {
	return ClusterConfig{Name: name, Config: env.Config}
}

// waitFor polls cond until it holds, failing the test after a minute
// with what the last poll said.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last seen: %s", what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterOf returns the named cluster of the Fleet.
func clusterOf(f Fleet, name string) (Cluster, bool) {
	for _, c := range f.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return Cluster{}, false
}

// rowOf returns the row of Stack namespace/name in the named cluster.
func rowOf(f Fleet, clusterName, namespace, name string) (StackRow, bool) {
	c, _ := clusterOf(f, clusterName)
	for _, r := range c.Stacks {
		if r.Namespace == namespace && r.Name == name {
			return r, true
		}
	}
	return StackRow{}, false
}

// stackSpec is a minimal valid Stack spec reading GitRepository fleet.
func stackSpec() v1alpha1.StackSpec {
	return v1alpha1.StackSpec{
		SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
		Interval:  metav1.Duration{Duration: time.Minute}, Prune: true,
	}
}

// createStack creates a Stack and writes its status through the status
// subresource, as the agent would.
func createStack(t *testing.T, c client.Client, st *v1alpha1.Stack) {
	t.Helper()
	ctx := context.Background()
	status := st.Status
	if err := c.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	st.Status = status
	if err := c.Status().Update(ctx, st); err != nil {
		t.Fatal(err)
	}
}

// setReady writes a Stack's Ready condition.
func setReady(t *testing.T, c client.Client, key client.ObjectKey, ready metav1.ConditionStatus, reason, message string) {
	t.Helper()
	ctx := context.Background()
	st := &v1alpha1.Stack{}
	if err := c.Get(ctx, key, st); err != nil {
		t.Fatal(err)
	}
	st.Status.Conditions = []metav1.Condition{readyCondition(ready, reason, message)}
	if err := c.Status().Update(ctx, st); err != nil {
		t.Fatal(err)
	}
}

func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ReadyCondition, Status: status, Reason: reason, Message: message,
		LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents reads the event stream of ts into a channel until the test
// ends.
func readEvents(t *testing.T, ts *httptest.Server) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/events", nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("GET /api/events: %s, Content-Type %q", resp.Status, ct)
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{name: "comment", data: line}
			case line == "" && ev.name != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}
