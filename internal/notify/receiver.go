package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/metrics"
)

// Limits of the webhook server.
const (
	// MaxBodyBytes caps a webhook body; a larger one gets 413.
	MaxBodyBytes = 3 << 20
	// HookPrefix starts every webhook path.
	HookPrefix = "/hook/"
)

// WebhookPath is the path of a Receiver: /hook/ and the hex SHA-256 of the
// token, the name and the namespace, as Flux computes it.
func WebhookPath(token, name, namespace string) string {
	sum := sha256.Sum256([]byte(token + name + namespace))
	return HookPrefix + hex.EncodeToString(sum[:])
}

// Route is a Receiver as the server serves it.
type Route struct {
	// Receiver is the Receiver's namespace and name.
	Receiver types.NamespacedName
	// Verifier checks requests.
	Verifier Verifier
	// Events are the accepted event types; empty accepts all.
	Events []string
	// Resources are reconciled on a verified request.
	Resources []v1alpha1.EventSourceReference
}

// Requester asks for a reconcile of the objects a Receiver names.
type Requester interface {
	RequestReconcile(ctx context.Context, receiverNamespace string, res v1alpha1.EventSourceReference) error
}

// ServerOptions configure a ReceiverServer.
type ServerOptions struct {
	// Addr is where to listen, like ":9292".
	Addr string
	// CertFile and KeyFile turn on TLS when both are set.
	CertFile, KeyFile string
	// MaxConcurrent bounds the requests handled at once; more get 503.
	MaxConcurrent int
	// Metrics counts requests; nil counts nothing.
	Metrics *metrics.NotifyRecorder
	// Log receives one line per refused or accepted request, no secrets.
	Log logr.Logger
}

// ReceiverServer serves the webhook paths of every Receiver.
type ReceiverServer struct {
	opts      ServerOptions
	requester Requester
	sem       chan struct{}
	coalesce  *coalescer

	mu     sync.RWMutex
	routes map[string]Route                // by path
	paths  map[types.NamespacedName]string // by Receiver

	addrMu sync.Mutex
	addr   net.Addr
	ready  chan struct{}
}

var _ manager.Runnable = (*ReceiverServer)(nil)

// NewReceiverServer returns a server; Start listens.
func NewReceiverServer(r Requester, opts ServerOptions) *ReceiverServer {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 32
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	return &ReceiverServer{
		opts: opts, requester: r, sem: make(chan struct{}, opts.MaxConcurrent), coalesce: newCoalescer(),
		routes: map[string]Route{}, paths: map[types.NamespacedName]string{}, ready: make(chan struct{}),
	}
}

// Register serves route at path, replacing the Receiver's previous path.
func (s *ReceiverServer) Register(path string, route Route) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.paths[route.Receiver]; ok {
		delete(s.routes, old)
	}
	s.routes[path], s.paths[route.Receiver] = route, path
}

// Remove stops serving the Receiver.
func (s *ReceiverServer) Remove(receiver types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.paths[receiver]; ok {
		delete(s.routes, old)
		delete(s.paths, receiver)
	}
}

// Addr returns the address listened on, once Start has bound it.
func (s *ReceiverServer) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.addr, nil
}

// Start listens until ctx ends.
func (s *ReceiverServer) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return errors.New("webhook receiver: " + err.Error())
	}
	s.addrMu.Lock()
	s.addr = ln.Addr()
	s.addrMu.Unlock()
	close(s.ready)
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if s.opts.CertFile != "" && s.opts.KeyFile != "" {
		err = srv.ServeTLS(ln, s.opts.CertFile, s.opts.KeyFile)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeHTTP checks, in this order: method, path, capacity, size, headers,
// signature, event type; only then is the body parsed and a reconcile requested.
func (s *ReceiverServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, msg := s.serve(r)
	s.opts.Metrics.Webhook(strconv.Itoa(code))
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}

func (s *ReceiverServer) serve(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "POST only"
	}
	s.mu.RLock()
	route, ok := s.routes[r.URL.Path]
	s.mu.RUnlock()
	if !ok || !strings.HasPrefix(r.URL.Path, HookPrefix) {
		return http.StatusNotFound, "not found"
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		return http.StatusServiceUnavailable, "busy, retry"
	}
	if r.ContentLength > MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, "body larger than 3 MiB"
	}
	log := s.opts.Log.WithValues("receiver", route.Receiver.String())
	if err := route.Verifier.VerifyHeaders(r.Header); err != nil {
		log.V(1).Info("webhook refused", "reason", err.Error())
		return http.StatusUnauthorized, err.Error()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return http.StatusBadRequest, "reading the body failed"
	}
	if len(body) > MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, "body larger than 3 MiB"
	}
	if err := route.Verifier.VerifyBody(r.Header, body); err != nil {
		log.V(1).Info("webhook refused", "reason", err.Error())
		return http.StatusUnauthorized, err.Error()
	}
	return s.accept(r, route, body, log)
}

// accept handles a verified request.
func (s *ReceiverServer) accept(r *http.Request, route Route, body []byte, log logr.Logger) (int, string) {
	event := EventType(route.Verifier.Type, r.Header)
	if event == "ping" {
		return http.StatusOK, "pong"
	}
	if len(route.Events) > 0 && !slices.Contains(route.Events, event) {
		return http.StatusOK, "event type not selected by the Receiver, ignored"
	}
	push, err := ParsePayload(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	for _, res := range route.Resources {
		s.coalesce.do(res.Kind+"/"+res.Namespace+"/"+res.Name+"/"+route.Receiver.Namespace, func() {
			if err := s.requester.RequestReconcile(context.WithoutCancel(r.Context()), route.Receiver.Namespace, res); err != nil {
				log.Info("reconcile request failed", "kind", res.Kind, "name", res.Name, "error", err.Error())
			}
		})
	}
	log.Info("webhook accepted", "event", truncate(event, maxFieldLen), "ref", push.Ref, "commit", push.Commit)
	return http.StatusAccepted, "reconcile requested"
}

// coalescer runs at most one request per key at a time; requests that
// arrive meanwhile collapse into one more run after it.
type coalescer struct {
	mu    sync.Mutex
	state map[string]bool // key -> another run is wanted
}

func newCoalescer() *coalescer { return &coalescer{state: map[string]bool{}} }

func (c *coalescer) do(key string, fn func()) {
	c.mu.Lock()
	if _, running := c.state[key]; running {
		c.state[key] = true
		c.mu.Unlock()
		return
	}
	c.state[key] = false
	c.mu.Unlock()
	go func() {
		for {
			fn()
			c.mu.Lock()
			if !c.state[key] {
				delete(c.state, key)
				c.mu.Unlock()
				return
			}
			c.state[key] = false
			c.mu.Unlock()
		}
	}()
}
