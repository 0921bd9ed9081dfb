package faultproxy

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Fault is what a rule does to a request it matches.
type Fault int

const (
	// Unavailable answers 503 with a Status naming the rule, without
	// forwarding the request.
	Unavailable Fault = iota + 1
	// Stall holds the request, unforwarded, until the client gives up (its
	// context ends) or the rules change; then it is forwarded.
	Stall
	// Reset closes the client's connection with a TCP reset before the
	// request reaches the API server.
	Reset
	// ResetAfterForward lets the API server handle the request, then resets
	// the connection before the client reads the answer: the write
	// happened, and the client cannot know.
	ResetAfterForward
)

func (f Fault) String() string {
	switch f {
	case Unavailable:
		return "unavailable"
	case Stall:
		return "stall"
	case Reset:
		return "reset"
	case ResetAfterForward:
		return "reset-after-forward"
	}
	return "none"
}

// Rule injects Fault into the requests Match selects, after letting the
// first Skip of them through, for Count requests (0: every one after).
type Rule struct {
	// Name identifies the rule in Faulted and in the 503 answers.
	Name  string
	Match Matcher
	Skip  int
	Count int
	Fault Fault
}

// Record is one request the proxy saw, and what came of it.
type Record struct {
	Method, Path, Query string
	// Status is the API server's answer; 0 when it never answered.
	Status int
	// Fault is what a rule did to the request; 0 when none did.
	Fault Fault
	// Rule names the rule that faulted the request.
	Rule string
}

type activeRule struct {
	Rule
	seen, faulted int
}

// Proxy is a running fault proxy.
type Proxy struct {
	srv      *httptest.Server
	upstream *url.URL
	rt       http.RoundTripper
	rp       *httputil.ReverseProxy

	mu      sync.Mutex
	rules   []*activeRule
	records []Record
	// changed is closed when the rules change, which releases stalls.
	changed chan struct{}
}

// New starts a proxy in front of the API server upstream reaches; it
// authenticates there with upstream's credentials.
func New(upstream *rest.Config) (*Proxy, error) {
	u, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream host %q: %w", upstream.Host, err)
	}
	if u.Scheme == "" {
		u.Scheme = "https"
	}
	rt, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream transport: %w", err)
	}
	p := &Proxy{upstream: u, rt: rt, changed: make(chan struct{})}
	p.rp = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = u.Host },
		Transport:     rt,
		FlushInterval: -1,                         // watches stream
		ErrorLog:      log.New(io.Discard, "", 0), // a client that gives up is no news
	}
	// HTTP/1.1 only (httptest enables HTTP/2 only when asked), so a fault
	// can hijack and reset the connection of one request.
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.StartTLS()
	return p, nil
}

// Config returns a config that reaches the API server through the proxy.
// It carries no credentials: the proxy adds its own upstream.
func (p *Proxy) Config() *rest.Config {
	return &rest.Config{
		Host:            p.srv.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM()},
		QPS:             -1, // no client-side throttling: the tests count requests
	}
}

// WriteKubeconfig writes a kubeconfig file for Config to path.
func (p *Proxy) WriteKubeconfig(path string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.srv.URL, CertificateAuthorityData: p.caPEM()}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	cfg.CurrentContext = "proxy"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func (p *Proxy) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

// Close stops the proxy; stalled requests are released unforwarded.
func (p *Proxy) Close() {
	p.Set()
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Set replaces the rules (none: every request goes through) and releases
// the requests stalled so far.
func (p *Proxy) Set(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = p.rules[:0]
	for _, r := range rules {
		p.rules = append(p.rules, &activeRule{Rule: r})
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// Faulted returns how many requests the rule named name faulted since the
// rules were last set.
func (p *Proxy) Faulted(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rules {
		if r.Name == name {
			return r.faulted
		}
	}
	return 0
}

// Records returns the requests seen so far, in the order they ended.
func (p *Proxy) Records() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Record(nil), p.records...)
}

func (p *Proxy) record(rec Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = append(p.records, rec)
}

// decide returns the rule that faults r, if any, and the channel that
// closes when the rules change.
func (p *Proxy) decide(r *http.Request, body []byte) (*activeRule, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rule := range p.rules {
		if rule.Match != nil && !rule.Match(r, body) {
			continue
		}
		rule.seen++
		if rule.seen <= rule.Skip || (rule.Count > 0 && rule.faulted >= rule.Count) {
			continue
		}
		rule.faulted++
		return rule, p.changed
	}
	return nil, p.changed
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := Record{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	rule, changed := p.decide(r, body)
	if rule != nil {
		rec.Fault, rec.Rule = rule.Fault, rule.Name
	}
	switch {
	case rule == nil:
		p.forward(w, r, &rec)
	case rule.Fault == Unavailable:
		rec.Status = http.StatusServiceUnavailable
		unavailable(w, rule.Name)
	case rule.Fault == Stall:
		select {
		case <-r.Context().Done():
		case <-changed:
			if r.Context().Err() == nil { // a client that is gone gets nothing forwarded
				p.forward(w, r, &rec)
			}
		}
	case rule.Fault == Reset:
		reset(w)
	case rule.Fault == ResetAfterForward:
		p.forwardThenReset(w, r, &rec)
	}
	p.record(rec)
}

// forward hands the request to the API server and records its status.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, rec *Record) {
	sw := &statusWriter{ResponseWriter: w}
	p.rp.ServeHTTP(sw, r)
	rec.Status = sw.status
}

// forwardThenReset sends the request upstream, reads the whole answer and
// resets the client's connection instead of passing the answer on.
func (p *Proxy) forwardThenReset(w http.ResponseWriter, r *http.Request, rec *Record) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = p.upstream.Scheme, p.upstream.Host, p.upstream.Host
	resp, err := p.rt.RoundTrip(out)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rec.Status = resp.StatusCode
	}
	reset(w)
}

// unavailable answers 503 with a Kubernetes Status, as an API server that
// is shutting down or overloaded does, without Retry-After (client-go would
// retry on its own otherwise).
func unavailable(w http.ResponseWriter, rule string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": http.StatusServiceUnavailable,
		"reason":  "ServiceUnavailable",
		"message": "injected fault " + rule + ": the API server is unavailable",
	})
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the connection cannot be hijacked (HTTP/2?)")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*tls.Conn); ok {
		if tcp, ok := tc.NetConn().(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
	}
	_ = conn.Close()
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets watches stream through.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
