package harness

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Verb is a kind of API request as the benchmark tables count it.
type Verb string

// Verbs counted. A request with a dryRun parameter is a DryRun whatever its
// method; a GET is a Watch with watch=true, a List on a collection, and a
// Get otherwise (including discovery).
const (
	Get    Verb = "GET"
	List   Verb = "LIST"
	Watch  Verb = "WATCH"
	Patch  Verb = "PATCH"
	Post   Verb = "POST"
	Put    Verb = "PUT"
	Delete Verb = "DELETE"
	DryRun Verb = "dry-run"
	Other  Verb = "other"
)

// Verbs lists the verbs in table order: reads, writes, dry-runs.
var Verbs = []Verb{Get, List, Watch, Patch, Post, Put, Delete, DryRun}

// Classify returns the verb of one API request.
func Classify(req *http.Request) Verb {
	q := req.URL.Query()
	if q.Get("dryRun") != "" {
		return DryRun
	}
	switch req.Method {
	case http.MethodGet:
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1" || strings.Contains(req.URL.Path, "/watch/"):
			return Watch
		case isCollection(req.URL.Path):
			return List
		default:
			return Get
		}
	case http.MethodPatch:
		return Patch
	case http.MethodPost:
		return Post
	case http.MethodPut:
		return Put
	case http.MethodDelete:
		return Delete
	}
	return Other
}

// isCollection reports whether an API path names a collection of objects
// (/api/v1/namespaces/ns/configmaps, /apis/g/v/things) rather than one
// object, a subresource or a discovery document.
func isCollection(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var rest []string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		rest = parts[3:]
	default:
		return false
	}
	if len(rest) >= 3 && rest[0] == "namespaces" {
		rest = rest[2:]
	}
	return len(rest) == 1
}

// Counts are API requests by verb.
type Counts map[Verb]int

// Sub returns c minus before, verb by verb.
func (c Counts) Sub(before Counts) Counts {
	out := Counts{}
	for v, n := range c {
		if d := n - before[v]; d != 0 {
			out[v] = d
		}
	}
	for v, n := range before {
		if _, ok := c[v]; !ok && n != 0 {
			out[v] = -n
		}
	}
	return out
}

// Reads returns the GET, LIST and WATCH requests.
func (c Counts) Reads() int { return c[Get] + c[List] + c[Watch] }

// Writes returns the PATCH, POST, PUT and DELETE requests, dry-runs excluded.
func (c Counts) Writes() int { return c[Patch] + c[Post] + c[Put] + c[Delete] }

// Counter counts the requests sent through the round trippers it wraps and
// knows whether any is in flight. The zero value is ready to use.
type Counter struct {
	mu       sync.Mutex
	counts   Counts
	inflight int
	last     time.Time
	now      func() time.Time // for tests; nil means time.Now
}

// Wrap returns rt counting through c; it fits rest.Config.Wrap.
func (c *Counter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.begin(Classify(req))
		defer c.end()
		return rt.RoundTrip(req)
	})
}

func (c *Counter) begin(v Verb) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = Counts{}
	}
	c.counts[v]++
	c.inflight++
	c.last = c.clock()
}

func (c *Counter) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	c.last = c.clock()
}

func (c *Counter) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Snapshot returns the requests counted so far.
func (c *Counter) Snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(Counts, len(c.counts))
	for v, n := range c.counts {
		out[v] = n
	}
	return out
}

// Quiet reports whether no request is in flight and none started or ended
// within the last d. A watch counts as in flight only until its response
// headers arrive.
func (c *Counter) Quiet(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight == 0 && c.clock().Sub(c.last) >= d
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
