// Package server is the example app's HTTP handler: who it is (/), its
// version (/version), liveness (/healthz), readiness (/readyz) and
// Prometheus metrics (/metrics), with a failure mode a Deployment switches
// on (Options.ErrorPercent, Options.Delay) to play a bad release. Command
// app (the parent directory) runs it; tests run it in-process.
//
// It is not a general web framework: only what the example fleet and the
// canary analysis need.
package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure the app.
type Options struct {
	// Addr to listen on.
	Addr string
	// Name and Message go into the responses of /.
	Name, Message string
	// ReadyAfter delays readiness after the start, like a slow warm-up.
	ReadyAfter time.Duration
	// DrainDelay is how long /readyz fails before the server shuts down.
	DrainDelay time.Duration
	// ShutdownTimeout bounds in-flight requests at shutdown.
	ShutdownTimeout time.Duration
	// Version is the app's version in responses.
	Version string
	// ErrorPercent of the traffic requests (/ and /version) answer 500,
	// spread evenly: exactly ErrorPercent of every 100 consecutive ones.
	// 0 (the default) is a healthy app, 100 a broken one.
	ErrorPercent int
	// Delay is added to every traffic request before it is answered, like
	// a slow release.
	Delay time.Duration
}

// DefaultOptions are the app's defaults: port 8080, ready at once.
func DefaultOptions() Options {
	return Options{
		Addr: ":8080", Name: "app", Message: "Hello from a Flotilla fleet",
		DrainDelay: 5 * time.Second, ShutdownTimeout: 10 * time.Second,
		Version: "dev",
	}
}

// Validate checks the failure switches.
func (o Options) Validate() error {
	if o.ErrorPercent < 0 || o.ErrorPercent > 100 {
		return fmt.Errorf("error percent %d: want 0 to 100", o.ErrorPercent)
	}
	if o.Delay < 0 {
		return fmt.Errorf("delay %s: want 0 or more", o.Delay)
	}
	return nil
}

// Info is the JSON body of /.
type Info struct {
	App      string `json:"app"`
	Version  string `json:"version"`
	Message  string `json:"message"`
	Hostname string `json:"hostname"`
}

// Server is the app's HTTP handler and its state.
type Server struct {
	opts     Options
	hostname string
	readyAt  time.Time
	now      func() time.Time
	draining atomic.Bool
	served   atomic.Uint64
	metrics  *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewServer returns a Server started now. Options are used as given:
// check them with Validate first.
func NewServer(o Options) *Server {
	hostname, _ := os.Hostname()
	s := &Server{opts: o, hostname: hostname, now: time.Now, metrics: prometheus.NewRegistry()}
	s.readyAt = s.now().Add(o.ReadyAfter)
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests served by the app, by status code and method.",
	}, []string{"code", "method"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by status code and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"code", "method"})
	s.metrics.MustRegister(s.requests, s.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// Handler routes the app's endpoints. Only / and /version count in the
// request metrics: probes and scrapes are not traffic.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", s.instrument(s.failing(http.HandlerFunc(s.info))))
	mux.Handle("GET /version", s.instrument(s.failing(http.HandlerFunc(s.version))))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	return mux
}

// Drain makes /readyz fail from now on.
func (s *Server) Drain() { s.draining.Store(true) }

// DrainDelay is how long /readyz fails before the server shuts down.
func (s *Server) DrainDelay() time.Duration { return s.opts.DrainDelay }

// ShutdownTimeout bounds in-flight requests at shutdown.
func (s *Server) ShutdownTimeout() time.Duration { return s.opts.ShutdownTimeout }

// failing applies the failure switches to a traffic endpoint: the delay,
// then a 500 for ErrorPercent of the requests. The n-th request fails when
// the running count of failures due, n*ErrorPercent/100, goes up.
func (s *Server) failing(h http.Handler) http.Handler {
	if s.opts.ErrorPercent == 0 && s.opts.Delay == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Delay > 0 {
			select {
			case <-time.After(s.opts.Delay):
			case <-r.Context().Done():
				return
			}
		}
		n := s.served.Add(1)
		p := uint64(s.opts.ErrorPercent)
		if n*p/100 > (n-1)*p/100 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf("failing on purpose: %d%% of requests (APP_ERROR_PERCENT)", s.opts.ErrorPercent)})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) instrument(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(s.duration, promhttp.InstrumentHandlerCounter(s.requests, h))
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, Info{App: s.opts.Name, Version: s.opts.Version, Message: s.opts.Message, Hostname: s.hostname})
}

func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"version": s.opts.Version})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.draining.Load():
		http.Error(w, "draining", http.StatusServiceUnavailable)
	case s.now().Before(s.readyAt):
		http.Error(w, "starting", http.StatusServiceUnavailable)
	default:
		_, _ = w.Write([]byte("ok\n"))
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
