package dashboard

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSubscriberKeepsTheNewestStateOfEachCluster(t *testing.T) {
	s := &subscriber{queued: map[string][]byte{}, wake: make(chan struct{}, 1)}
	s.put("a", []byte("a1"))
	s.put("b", []byte("b1"))
	s.put("a", []byte("a2"))
	got := s.take()
	if len(got) != 2 || string(got[0]) != "a2" || string(got[1]) != "b1" {
		t.Errorf("take = %q, want [a2 b1]: the newest of each cluster, in the order they first changed", got)
	}
	if rest := s.take(); len(rest) != 0 {
		t.Errorf("second take = %q, want nothing", rest)
	}
}

func TestHubSendsTheLastStateOfABurst(t *testing.T) {
	var n atomic.Int64
	h := newHub(func(cluster string) ([]byte, bool) { return fmt.Appendf(nil, "%s-%d", cluster, n.Load()), true })
	sub := h.subscribe()
	for range 50 {
		n.Add(1)
		h.changed("prod")
	}
	deadline := time.After(time.Minute)
	for {
		select {
		case <-sub.wake:
			for _, data := range sub.take() {
				if string(data) == "prod-50" {
					return
				}
			}
		case <-deadline:
			t.Fatal("the last state of the burst was never sent")
		}
	}
}

func TestEventStreamStartsWithTheFleetAndEndsWithTheServer(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.hub.keepAlive = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	ts := httptestServer(t, s)
	events := readEvents(t, ts)
	if ev := <-events; ev.name != "fleet" || !strings.Contains(ev.data, `"clusters":[]`) {
		t.Errorf("first event = %s %s, want the fleet", ev.name, ev.data)
	}
	if ev := <-events; ev.name != "comment" {
		t.Errorf("second event = %s %s, want a keep-alive comment", ev.name, ev.data)
	}
	cancel()
	<-done
	for range events { // the stream ends: the channel closes
	}
}
