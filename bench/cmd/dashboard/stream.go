package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/dashboard"
)

// stream is one client of GET /api/events, as a browser's EventSource: it
// notes when each Stack row was first seen with a revision and readiness.
type stream struct {
	resp *http.Response
	mu   sync.Mutex
	// seen maps a cellKey to when an event first carried it.
	seen map[string]time.Time
	// fleets and clusters count the events of each type; unreachable
	// the cluster events that marked their cluster unreachable.
	fleets, clusters, unreachable int
	err                           error
	done                          chan struct{}
}

// cellKey names a Stack row in one state: cluster, namespace/name,
// revision and readiness.
func cellKey(cluster, stack, revision, ready string) string {
	return cluster + "|" + stack + "|" + revision + "|" + ready
}

// openStream connects to the server's event stream and reads it until
// ctx ends or close is called.
func openStream(ctx context.Context, base string) (*stream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, fmt.Errorf("GET /api/events: %s, Content-Type %q", resp.Status, ct)
	}
	s := &stream{resp: resp, seen: map[string]time.Time{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		err := readEvents(resp.Body, s.handle)
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
	}()
	return s, nil
}

// close ends the stream and waits for its reader.
func (s *stream) close() {
	s.resp.Body.Close()
	<-s.done
}

// handle notes the rows of a fleet or cluster event.
func (s *stream) handle(event, data string) error {
	now := time.Now()
	var clusters []dashboard.Cluster
	switch event {
	case "fleet":
		var f dashboard.Fleet
		if err := json.Unmarshal([]byte(data), &f); err != nil {
			return fmt.Errorf("event fleet: %w", err)
		}
		clusters = f.Clusters
	case "cluster":
		var c dashboard.Cluster
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return fmt.Errorf("event cluster: %w", err)
		}
		clusters = []dashboard.Cluster{c}
	default:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if event == "fleet" {
		s.fleets++
	} else {
		s.clusters++
		if !clusters[0].Reachable {
			s.unreachable++
		}
	}
	for _, c := range clusters {
		for _, r := range c.Stacks {
			key := cellKey(c.Name, r.Namespace+"/"+r.Name, r.Revision, r.Ready)
			if _, ok := s.seen[key]; !ok {
				s.seen[key] = now
			}
		}
	}
	return nil
}

// when is the time an event first carried key.
func (s *stream) when(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.seen[key]
	return t, ok
}

// counts are the events of each type the stream received, and the
// cluster events that marked their cluster unreachable.
func (s *stream) counts() (fleets, clusters, unreachable int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fleets, s.clusters, s.unreachable
}

// ended is nil while the stream is open, and why it ended once it has.
func (s *stream) ended() error {
	select {
	case <-s.done:
	default:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return fmt.Errorf("the event stream ended: %w", s.err)
	}
	return errors.New("the server ended the event stream")
}

// readEvents parses a text/event-stream as the HTML standard says: lines
// "field: value", a blank line dispatching the event, ':' starting a
// comment, several data lines joined by newlines, "message" the type of an
// event without one. It calls fn for each event and returns fn's first
// error, or the reader's (nil at its end).
func readEvents(r io.Reader, fn func(event, data string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // a whole Fleet is one data line
	var event string
	var data []string
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			if len(data) > 0 {
				if event == "" {
					event = "message"
				}
				if err := fn(event, strings.Join(data, "\n")); err != nil {
					return err
				}
			}
			event, data = "", nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}
