package main

import (
	"encoding/json"
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
}

// DefaultOptions are the app's defaults: port 8080, ready at once.
func DefaultOptions() Options {
	return Options{
		Addr: ":8080", Name: "app", Message: "Hello from a Flotilla fleet",
		DrainDelay: 5 * time.Second, ShutdownTimeout: 10 * time.Second,
	}
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
	metrics  *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewServer returns a Server started now.
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
	mux.Handle("GET /{$}", s.instrument(http.HandlerFunc(s.info)))
	mux.Handle("GET /version", s.instrument(http.HandlerFunc(s.version)))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	return mux
}

// Drain makes /readyz fail from now on.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) instrument(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(s.duration, promhttp.InstrumentHandlerCounter(s.requests, h))
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, Info{App: s.opts.Name, Version: version, Message: s.opts.Message, Hostname: s.hostname})
}

func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"version": version})
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
