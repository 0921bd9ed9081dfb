package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
)

// DefaultPingInterval is how often a cluster's API server is probed.
const DefaultPingInterval = 2 * time.Second

// DefaultAddress is where Listen serves when no address is given: a free
// port of the loopback interface.
const DefaultAddress = "127.0.0.1:0"

// TokenHeader is the header every POST must carry, with Fleet.Token.
const TokenHeader = "X-Flotilla-Token"

// ClusterConfig is one cluster the dashboard shows: a kubeconfig context.
type ClusterConfig struct {
	// Name is the context's name, the cluster's name on the page.
	Name string
	// Config reaches the cluster with the user's credentials.
	Config *rest.Config
}

// Options configure a Server.
type Options struct {
	// Clusters in the order the page shows them.
	Clusters []ClusterConfig
	// Repo is a local clone of the fleet repository (bare or not); "" for
	// none. It gives behind counts, commit messages and the plan page.
	Repo string
	// AllowActions offers reconcile, suspend and resume.
	AllowActions bool
	// PingInterval is the period of the reachability probe; 0 is
	// DefaultPingInterval.
	PingInterval time.Duration
	// Log receives what the server does not show on the page.
	Log logr.Logger
}

// Server watches the clusters and serves the page and its API.
type Server struct {
	opts     Options
	token    string
	watchers []*watcher
	byName   map[string]*watcher
	repo     *repoReader
	hub      *hub
	planner  *planner
	version  atomic.Uint64
	hostsMu  sync.RWMutex
	hosts    []string // the Host values Listen answers; nil: any loopback host
	handler  http.Handler
	history  *canaryHistory
}

// New checks the options and prepares the watchers; nothing connects
// before Run.
func New(o Options) (*Server, error) {
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	s := &Server{opts: o, byName: map[string]*watcher{}, history: newCanaryHistory()}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	s.token = token
	if o.Repo != "" {
		if s.repo, err = openRepo(o.Repo); err != nil {
			return nil, err
		}
	}
	s.planner = newPlanner(s.repo)
	s.hub = newHub(s.clusterJSON)
	for _, c := range o.Clusters {
		if c.Name == "" || c.Config == nil {
			return nil, errors.New("dashboard: every cluster needs a name and a config")
		}
		if _, dup := s.byName[c.Name]; dup {
			return nil, fmt.Errorf("dashboard: cluster %q is given twice", c.Name)
		}
		w, err := newWatcher(c, s.watcherEnv())
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
		}
		s.watchers = append(s.watchers, w)
		s.byName[c.Name] = w
	}
	s.handler = s.routes()
	return s, nil
}

// newToken returns 32 random bytes in hex.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("dashboard: generating the action token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// watcherEnv is what every watcher shares with the server.
func (s *Server) watcherEnv() watcherEnv {
	return watcherEnv{
		ping:    s.opts.PingInterval,
		log:     s.opts.Log,
		seq:     &s.version,
		behind:  s.behind,
		changed: func(name string) { s.hub.changed(name) },
		history: s.history,
	}
}

// Run starts a watcher per cluster and the repository's refresh, and
// returns when ctx ends. An unreachable cluster does not hold the others
// back.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, w := range s.watchers {
		wg.Go(func() { w.run(ctx) })
	}
	if s.repo != nil {
		wg.Go(func() { s.refreshRepo(ctx) })
	}
	wg.Go(func() { s.hub.run(ctx) })
	<-ctx.Done()
	wg.Wait()
	return nil
}

// refreshRepo rereads the repository's head every repoRefresh; a new head
// changes every behind count, so every cluster's rows are rebuilt.
func (s *Server) refreshRepo(ctx context.Context) {
	t := time.NewTicker(repoRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		moved, err := s.repo.refresh()
		if err != nil {
			s.opts.Log.Error(err, "reading the fleet repository")
		}
		if moved {
			for _, w := range s.watchers {
				w.rebuild()
			}
		}
	}
}

// behind is the behind count of a Stack's row (see StackRow.Behind).
func (s *Server) behind(revision, sourceRevision string) int {
	if s.repo == nil {
		if revision != "" && revision == sourceRevision {
			return 0
		}
		return -1
	}
	return s.repo.behind(revision)
}

// Fleet returns the current snapshot of every cluster.
func (s *Server) Fleet() Fleet {
	f := Fleet{
		Generated: time.Now().UTC(),
		Actions:   s.opts.AllowActions,
		Token:     s.token,
		Clusters:  make([]Cluster, 0, len(s.watchers)),
	}
	// Read the version first: every cluster below is at least as new.
	f.Version = s.version.Load()
	for _, w := range s.watchers {
		c := w.snapshot()
		f.Version = max(f.Version, c.Version)
		f.Clusters = append(f.Clusters, c)
	}
	if s.repo != nil {
		f.Repo = s.repo.info()
	}
	return f
}

// clusterJSON is the hub's view of one cluster: its snapshot, encoded.
func (s *Server) clusterJSON(name string) ([]byte, bool) {
	w, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(w.snapshot())
	return b, err == nil
}

// Handler returns the page and the API.
func (s *Server) Handler() http.Handler { return s.handler }

// routes builds the handler of the design's HTTP table behind the Host
// check.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(Web()))
	mux.HandleFunc("GET /api/fleet", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Fleet()) })
	mux.HandleFunc("GET /api/events", s.serveEvents)
	mux.HandleFunc("GET /api/clusters/{cluster}/stacks/{namespace}/{name}", s.serveStack)
	mux.HandleFunc("GET /api/delivery", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Delivery()) })
	mux.HandleFunc("GET /api/plan", s.servePlan)
	mux.HandleFunc("POST /api/clusters/{cluster}/stacks/{namespace}/{name}/{action}", s.serveAction)
	return s.checkHost(mux)
}

// checkHost refuses a request whose Host is not one the server listens
// on: a page of another site that rebinds its DNS name to 127.0.0.1 sends
// its own name as Host, and must not read the fleet.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowedHost(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("host %q is not the address the dashboard listens on: open it through localhost or 127.0.0.1", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedHost says whether host (host:port) names this server: one of the
// hosts Listen recorded, or, for a handler served by someone else (tests,
// benchmarks), any loopback name.
func (s *Server) allowedHost(host string) bool {
	s.hostsMu.RLock()
	hosts := s.hosts
	s.hostsMu.RUnlock()
	if hosts != nil {
		return slices.Contains(hosts, host)
	}
	name, _, err := net.SplitHostPort(host)
	if err != nil {
		name = host
	}
	return isLoopbackName(name)
}

func isLoopbackName(name string) bool {
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// setHosts records the Host values of a listener on addr (host:port).
func (s *Server) setHosts(addr string) {
	host, port, _ := net.SplitHostPort(addr)
	hosts := []string{addr, net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)}
	if host != "" && !net.ParseIP(host).IsUnspecified() {
		hosts = append(hosts, net.JoinHostPort(host, port))
	}
	s.hostsMu.Lock()
	s.hosts = hosts
	s.hostsMu.Unlock()
}

// Listen serves s.Handler() on addr (DefaultAddress when ""), until ctx
// ends; done receives the server's end (nil after ctx ended). The URL is
// the page's, http://HOST:PORT/. Run the Server's watchers with Run.
func Listen(ctx context.Context, s *Server, addr string) (string, <-chan error, error) {
	if addr == "" {
		addr = DefaultAddress
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("dashboard: listening on %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	host, port, _ := net.SplitHostPort(bound)
	if requested, _, _ := net.SplitHostPort(addr); requested != "" && net.ParseIP(requested) == nil {
		host = requested // a name the user gave, e.g. localhost
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.setHosts(net.JoinHostPort(host, port))
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			srv.Close()
		}
	}()
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/"}
	return u.String(), done, nil
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client went away: nothing to do
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}
