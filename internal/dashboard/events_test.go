package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingHub is a hub whose encoder counts its calls and answers ok.
func countingHub(ok bool) (*hub, *atomic.Int32) {
	var calls atomic.Int32
	h := newHub(func(cluster string) ([]byte, bool) {
		calls.Add(1)
		return []byte(`{"name":"` + cluster + `"}`), ok
	})
	return h, &calls
}

func TestHubSendWithoutSubscribersEncodesNothing(t *testing.T) {
	h, calls := countingHub(true)
	h.send("prod")
	if calls.Load() != 0 {
		t.Errorf("send without a subscriber encoded the cluster %d times, want 0", calls.Load())
	}
	if _, ok := h.last["prod"]; !ok {
		t.Error("send did not record when the cluster was sent: the next change would not be coalesced")
	}
}

func TestHubSendEncodesOnceForEverySubscriber(t *testing.T) {
	h, calls := countingHub(true)
	a, b, gone := h.subscribe(), h.subscribe(), h.subscribe()
	h.unsubscribe(gone)
	h.send("prod")
	if calls.Load() != 1 {
		t.Errorf("send to two subscribers encoded %d times, want once", calls.Load())
	}
	for name, s := range map[string]*subscriber{"a": a, "b": b} {
		if got := s.take(); len(got) != 1 || string(got[0]) != `{"name":"prod"}` {
			t.Errorf("subscriber %s got %q, want the cluster once", name, got)
		}
		select {
		case <-s.wake:
		default:
			t.Errorf("subscriber %s was not woken", name)
		}
	}
	if got := gone.take(); len(got) != 0 {
		t.Errorf("an unsubscribed stream got %q", got)
	}
}

func TestHubDropsAClusterItCannotEncode(t *testing.T) {
	h, calls := countingHub(false)
	s := h.subscribe()
	h.send("gone")
	if calls.Load() != 1 || len(s.take()) != 0 {
		t.Errorf("encode called %d times, subscriber got something: want one call and nothing queued", calls.Load())
	}
}

func TestHubSchedulesOneSendPerClusterAndRunCancelsThem(t *testing.T) {
	h, calls := countingHub(true)
	h.subscribe()
	// prod was just sent (in the future, so its window lasts the test):
	// its changes wait for one send at the end of the window.
	h.last["prod"] = time.Now().Add(time.Hour)
	h.last["edge"] = time.Now().Add(time.Hour)
	for range 5 {
		h.changed("prod")
	}
	h.changed("edge")
	h.mu.Lock()
	pending := len(h.pending)
	h.mu.Unlock()
	if pending != 2 {
		t.Errorf("%d sends scheduled for 6 changes of 2 clusters, want 2", pending)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() {
		h.run(ctx)
		close(ran)
	}()
	cancel()
	<-ran
	select {
	case <-h.done:
	default:
		t.Error("run returned without closing done: the streams stay open")
	}
	h.mu.Lock()
	for c, timer := range h.pending {
		if timer.Stop() {
			t.Errorf("the send of %s is still scheduled after run ended", c)
		}
	}
	h.mu.Unlock()
	if calls.Load() != 0 {
		t.Errorf("the clusters were encoded %d times, want none before their window ends", calls.Load())
	}
}

func TestWriteEventFormat(t *testing.T) {
	w := httptest.NewRecorder()
	if err := writeEvent(w, "cluster", []byte(`{"name":"prod"}`)); err != nil {
		t.Fatal(err)
	}
	if got, want := w.Body.String(), "event: cluster\ndata: {\"name\":\"prod\"}\n\n"; got != want {
		t.Errorf("event = %q, want %q", got, want)
	}
}

// plainWriter is a ResponseWriter that cannot flush, as behind some
// middleware.
type plainWriter struct{ rec *httptest.ResponseRecorder }

func (p plainWriter) Header() http.Header         { return p.rec.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.rec.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.rec.WriteHeader(code) }

func TestEventStreamNeedsAFlusher(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // were it served as a stream, it ends at once
	s.serveEvents(plainWriter{rec}, httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/events", nil))
	var e apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != http.StatusInternalServerError || err != nil || e.Error != "streaming is not supported by this connection" {
		t.Errorf("events without a flusher: %d %s; want 500 saying streaming is not supported", rec.Code, rec.Body)
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if len(s.hub.subs) != 0 {
		t.Errorf("a refused stream stays subscribed (%d)", len(s.hub.subs))
	}
}

func TestEventStreamSendsEachChangedCluster(t *testing.T) {
	s, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod"), offlineCluster("edge")}})
	events := readEvents(t, ts)
	first := <-events
	var f Fleet
	if err := json.Unmarshal([]byte(first.data), &f); first.name != "fleet" || err != nil || len(f.Clusters) != 2 {
		t.Fatalf("first event = %s %s (%v): want the fleet of two clusters", first.name, first.data, err)
	}
	s.byName["edge"].publish(clusterRows{stacks: []StackRow{{Namespace: "ns", Name: "apps", Ready: "True"}}}, true)
	s.hub.send("edge")
	ev := <-events
	var c Cluster
	if err := json.Unmarshal([]byte(ev.data), &c); ev.name != "cluster" || err != nil {
		t.Fatalf("second event = %s %s (%v): want a cluster", ev.name, ev.data, err)
	}
	if c.Name != "edge" || c.Version != 1 || len(c.Stacks) != 1 || c.Stacks[0].Name != "apps" {
		t.Errorf("cluster event = %+v, want edge at version 1 with its Stack", c)
	}
	if strings.Contains(ev.data, "\n") {
		t.Errorf("an event's data spans lines: %q", ev.data)
	}
}

func TestEventStreamHeaders(t *testing.T) {
	s, ts := newOfflineServer(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/events", nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	defer cancel()
	for h, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if _, ok := s.clusterJSON("prod"); ok {
		t.Error("clusterJSON of a cluster the server does not show answered ok")
	}
}
