package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Timing of the event stream.
const (
	// coalesceWindow is the shortest time between two events of one
	// cluster: a burst of changes is sent as one event, with the last state.
	coalesceWindow = 100 * time.Millisecond
	// keepAliveInterval is the period of the comment that keeps proxies
	// from closing an idle stream.
	keepAliveInterval = 15 * time.Second
)

// hub sends each cluster's changes to every open stream. A change wakes
// the hub; at most once per coalesceWindow per cluster it encodes the
// cluster once and hands the bytes to every subscriber, each of which
// keeps only the newest bytes per cluster until its browser reads them: a
// slow browser never holds back the others or the watchers.
type hub struct {
	encode func(cluster string) ([]byte, bool)

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	last    map[string]time.Time   // when each cluster was last sent
	pending map[string]*time.Timer // a send already scheduled
	done    chan struct{}          // closed when the server stops
	stop    sync.Once
	// keepAlive is keepAliveInterval; tests shorten it.
	keepAlive time.Duration
}

func newHub(encode func(string) ([]byte, bool)) *hub {
	return &hub{
		encode: encode, subs: map[*subscriber]struct{}{},
		last: map[string]time.Time{}, pending: map[string]*time.Timer{},
		done: make(chan struct{}), keepAlive: keepAliveInterval,
	}
}

// run closes every stream when ctx ends.
func (h *hub) run(ctx context.Context) {
	<-ctx.Done()
	h.stop.Do(func() { close(h.done) })
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.pending {
		t.Stop()
	}
}

// changed tells the hub a cluster changed: it is sent now, or at the end
// of its coalescing window.
func (h *hub) changed(cluster string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, scheduled := h.pending[cluster]; scheduled {
		return
	}
	wait := coalesceWindow - time.Since(h.last[cluster])
	h.pending[cluster] = time.AfterFunc(max(wait, 0), func() { h.send(cluster) })
}

// send encodes a cluster and queues it on every subscriber.
func (h *hub) send(cluster string) {
	h.mu.Lock()
	delete(h.pending, cluster)
	h.last[cluster] = time.Now()
	subs := make([]*subscriber, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	data, ok := h.encode(cluster)
	if !ok {
		return
	}
	for _, s := range subs {
		s.put(cluster, data)
	}
}

func (h *hub) subscribe() *subscriber {
	s := &subscriber{queued: map[string][]byte{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// subscriber is one open stream: the newest encoded state of each cluster
// not yet written, in the order the clusters changed.
type subscriber struct {
	mu     sync.Mutex
	order  []string
	queued map[string][]byte
	wake   chan struct{}
}

func (s *subscriber) put(cluster string, data []byte) {
	s.mu.Lock()
	if _, ok := s.queued[cluster]; !ok {
		s.order = append(s.order, cluster)
	}
	s.queued[cluster] = data
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the queued events and empties the queue.
func (s *subscriber) take() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, 0, len(s.order))
	for _, c := range s.order {
		out = append(out, s.queued[c])
	}
	s.order, s.queued = s.order[:0], map[string][]byte{}
	return out
}

// serveEvents is GET /api/events: the whole Fleet first, then each
// cluster as it changes, until the browser or the server goes away.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported by this connection")
		return
	}
	sub := s.hub.subscribe() // before the snapshot: no change falls between
	defer s.hub.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fleet, err := json.Marshal(s.Fleet())
	if err != nil || writeEvent(w, "fleet", fleet) != nil {
		return
	}
	flusher.Flush()
	keepAlive := time.NewTicker(s.hub.keepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.done:
			return
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-sub.wake:
			for _, data := range sub.take() {
				if writeEvent(w, "cluster", data) != nil {
					return
				}
				flusher.Flush()
			}
			continue
		}
		flusher.Flush()
	}
}

// writeEvent writes one server-sent event; data is JSON, one line.
func writeEvent(w http.ResponseWriter, event string, data []byte) error {
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
	return err
}
