package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
)

// These tests serve the handler with httptest and clusters whose API
// server is not running: they check what the server answers by itself
// (routing, refusals, errors, headers, redaction) without a control plane.

// offlineHost is an API server address where nothing listens.
const offlineHost = "https://127.0.0.1:1"

// offlineCluster is a kubeconfig context whose API server does not run.
func offlineCluster(name string) ClusterConfig {
	return ClusterConfig{Name: name, Config: &rest.Config{Host: offlineHost}}
}

// newOfflineServer returns a Server that is never Run, and its handler
// served by httptest.
func newOfflineServer(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, httptestServer(t, s)
}

// markUnreachable records a failed probe of a cluster, as watcher.probe
// does.
func markUnreachable(w *watcher) {
	w.mu.Lock()
	w.probed, w.state.Reachable, w.pingErr = true, false, "unreachable: connection refused"
	w.mu.Unlock()
}

// response is an answer as a test reads it.
type response struct {
	code   int
	header http.Header
	body   string
}

// do sends a request with the given headers to ts and reads the answer.
func do(t *testing.T, ts *httptest.Server, method, path string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(body)}
}

// errorOf decodes the body of an error answer.
func errorOf(t *testing.T, r response) string {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	return e.Error
}

func TestNewRefusesBadClusters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		clusters []ClusterConfig
		want     string
	}{
		{"a cluster without a name", []ClusterConfig{{Config: &rest.Config{Host: offlineHost}}}, "dashboard: every cluster needs a name and a config"},
		{"a cluster without a config", []ClusterConfig{{Name: "prod"}}, "dashboard: every cluster needs a name and a config"},
		{"a cluster given twice", []ClusterConfig{offlineCluster("prod"), offlineCluster("staging"), offlineCluster("prod")}, `dashboard: cluster "prod" is given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Clusters: tc.clusters})
			if err == nil || err.Error() != tc.want {
				t.Errorf("New = %v, %v; want the error %q", s, err, tc.want)
			}
		})
	}
}

func TestNewRefusesARepositoryThatIsNotOne(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{Repo: dir})
	if err == nil || !strings.Contains(err.Error(), "opening the fleet repository "+dir) || !strings.Contains(err.Error(), "give --repo a clone of it") {
		t.Errorf("New with an empty directory as --repo = %v; want an error naming the directory and --repo", err)
	}
}

func TestNewDefaultsThePingInterval(t *testing.T) {
	for _, in := range []time.Duration{0, -time.Second} {
		s, err := New(Options{PingInterval: in})
		if err != nil {
			t.Fatal(err)
		}
		if s.opts.PingInterval != DefaultPingInterval {
			t.Errorf("PingInterval %v became %v, want DefaultPingInterval", in, s.opts.PingInterval)
		}
	}
	s, err := New(Options{PingInterval: time.Hour, Clusters: []ClusterConfig{offlineCluster("prod")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.byName["prod"].env.ping; got != time.Hour {
		t.Errorf("the watcher probes every %v, want the hour given", got)
	}
}

func TestFleetBeforeAnyProbe(t *testing.T) {
	s, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod"), offlineCluster("edge")}, AllowActions: true})
	r := do(t, ts, http.MethodGet, "/api/fleet", nil)
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /api/fleet: %d, Content-Type %q, Cache-Control %q: want 200, JSON, no-store", r.code, r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
	}
	var f Fleet
	if err := json.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatal(err)
	}
	want := []Cluster{
		{Name: "prod", Server: offlineHost, Stacks: []StackRow{}},
		{Name: "edge", Server: offlineHost, Stacks: []StackRow{}},
	}
	if diff := cmp.Diff(want, f.Clusters); diff != "" {
		t.Errorf("clusters before the first probe (-want +got):\n%s", diff)
	}
	if !f.Actions || f.Token != s.token || f.Repo != nil || f.Version != 0 {
		t.Errorf("fleet: actions %t, token %q (server's %q), repo %v, version %d: want actions, the server's token, no repo, version 0", f.Actions, f.Token, s.token, f.Repo, f.Version)
	}
	if !strings.Contains(r.body, `"stacks":[]`) {
		t.Errorf("a cluster without Stacks must send [] (the page iterates it): %s", r.body)
	}
}

func TestFleetVersionIsTheNewestCluster(t *testing.T) {
	s, err := New(Options{Clusters: []ClusterConfig{offlineCluster("prod"), offlineCluster("edge")}})
	if err != nil {
		t.Fatal(err)
	}
	s.byName["prod"].publish(clusterRows{stacks: []StackRow{}}, true)
	s.byName["edge"].publish(clusterRows{stacks: []StackRow{}, canaries: 2}, true)
	f := s.Fleet()
	if f.Version != 2 || f.Clusters[0].Version != 1 || f.Clusters[1].Version != 2 || f.Clusters[1].Canaries != 2 {
		t.Errorf("fleet version %d, clusters %+v: want 2, prod at 1, edge at 2 with 2 canaries", f.Version, f.Clusters)
	}
	if f.Generated.Location() != time.UTC || f.Generated.IsZero() {
		t.Errorf("generated = %v, want a UTC time", f.Generated)
	}
}

func TestFleetDoesNotCarryCredentialsOfTheKubeconfig(t *testing.T) {
	cfg := &rest.Config{Host: "https://admin:hunter2@127.0.0.1:1/base", BearerToken: "bearer-token-123"}
	_, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{{Name: "prod", Config: cfg}}})
	r := do(t, ts, http.MethodGet, "/api/fleet", nil)
	for _, secret := range []string{"hunter2", "admin", "bearer-token-123"} {
		if strings.Contains(r.body, secret) {
			t.Errorf("GET /api/fleet carries %q: %s", secret, r.body)
		}
	}
	if !strings.Contains(r.body, `"server":"https://127.0.0.1:1/base"`) {
		t.Errorf("GET /api/fleet: want the server without user information: %s", r.body)
	}
}

func TestEveryAnswerCarriesTheFramingAndSniffingHeaders(t *testing.T) {
	_, ts := newOfflineServer(t, Options{})
	for _, path := range []string{"/", "/api/fleet", "/api/delivery", "/api/plan", "/api/clusters/x/stacks/ns/n", "/no/such/page"} {
		r := do(t, ts, http.MethodGet, path, nil)
		got := map[string]string{}
		for _, h := range []string{"X-Frame-Options", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			got[h] = r.header.Get(h)
		}
		want := map[string]string{
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s (%d): headers (-want +got):\n%s", path, r.code, diff)
		}
	}
}

func TestPageIsServedFromTheEmbeddedFiles(t *testing.T) {
	_, ts := newOfflineServer(t, Options{})
	for _, tc := range []struct {
		// contentType is a part of the type: the host's mime.types may
		// name JavaScript otherwise.
		path, contentType, contains string
	}{
		{"/", "text/html", "<html"},
		{"/app.js", "javascript", "/api/events"},
		{"/style.css", "text/css", "{"},
	} {
		r := do(t, ts, http.MethodGet, tc.path, nil)
		if ct := r.header.Get("Content-Type"); r.code != http.StatusOK || !strings.Contains(ct, tc.contentType) || !strings.Contains(r.body, tc.contains) {
			t.Errorf("GET %s: %d, Content-Type %q, body %.80q; want 200, a %s type, containing %q", tc.path, r.code, ct, r.body, tc.contentType, tc.contains)
		}
	}
	if r := do(t, ts, http.MethodGet, "/missing.js", nil); r.code != http.StatusNotFound {
		t.Errorf("GET /missing.js: %d, want 404", r.code)
	}
}

func TestMethodsOutsideTheTableAreRefused(t *testing.T) {
	s, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod")}, AllowActions: true})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/api/fleet", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/api/clusters/prod/stacks/ns/apps", http.StatusMethodNotAllowed},
		{http.MethodGet, "/api/clusters/prod/stacks/ns/apps/reconcile", http.StatusNotFound},
		{http.MethodPut, "/api/clusters/prod/stacks/ns/apps/reconcile", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/clusters/prod/stacks/ns/apps", http.StatusMethodNotAllowed},
	} {
		r := do(t, ts, tc.method, tc.path, map[string]string{TokenHeader: s.token})
		if r.code != tc.want {
			t.Errorf("%s %s: %d %s; want %d", tc.method, tc.path, r.code, r.body, tc.want)
		}
	}
}

func TestStackOfAnUnknownClusterIsA404NamingTheKnownOnes(t *testing.T) {
	_, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod"), offlineCluster("edge")}})
	r := do(t, ts, http.MethodGet, "/api/clusters/staging/stacks/ns/apps", nil)
	want := `unknown cluster "staging": the dashboard shows the contexts [prod edge]`
	if r.code != http.StatusNotFound || errorOf(t, r) != want {
		t.Errorf("GET a Stack of cluster staging: %d %s; want 404 %q", r.code, r.body, want)
	}
}

func TestStackOfAnUnreachableClusterWithoutCacheIsABadGateway(t *testing.T) {
	s, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod")}})
	markUnreachable(s.byName["prod"])
	r := do(t, ts, http.MethodGet, "/api/clusters/prod/stacks/team-a/apps", nil)
	want := "reading Stack team-a/apps in prod: stacks team-a/apps: the cluster prod is unreachable"
	if r.code != http.StatusBadGateway || errorOf(t, r) != want {
		t.Errorf("GET a Stack of an unreachable cluster: %d %s; want 502 %q", r.code, r.body, want)
	}
}

func TestActionRefusalsComeBeforeTheClusterIsAsked(t *testing.T) {
	s, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod")}, AllowActions: true})
	tok := map[string]string{TokenHeader: s.token}
	for _, tc := range []struct {
		name   string
		path   string
		header map[string]string
		code   int
		want   string
	}{
		{"no token", "/api/clusters/prod/stacks/ns/apps/reconcile", nil, http.StatusForbidden, "missing or wrong X-Flotilla-Token header: reload the page"},
		{"an unknown action", "/api/clusters/prod/stacks/ns/apps/delete", tok, http.StatusNotFound, `unknown action "delete": use reconcile, suspend or resume`},
		{"an unknown action without a token", "/api/clusters/prod/stacks/ns/apps/delete", nil, http.StatusForbidden, "missing or wrong X-Flotilla-Token header: reload the page"},
		{"an unknown cluster", "/api/clusters/staging/stacks/ns/apps/suspend", tok, http.StatusNotFound, `unknown cluster "staging": the dashboard shows the contexts [prod]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, ts, http.MethodPost, tc.path, tc.header)
			if r.code != tc.code || errorOf(t, r) != tc.want {
				t.Errorf("POST %s: %d %s; want %d %q", tc.path, r.code, r.body, tc.code, tc.want)
			}
		})
	}
}

func TestActionOnAClusterThatDoesNotAnswerNamesItAndHidesTheCredentials(t *testing.T) {
	cfg := &rest.Config{Host: "https://admin:hunter2@127.0.0.1:1", BearerToken: "bearer-token-123"}
	s, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{{Name: "prod", Config: cfg}}, AllowActions: true})
	r := do(t, ts, http.MethodPost, "/api/clusters/prod/stacks/team-a/apps/suspend", map[string]string{TokenHeader: s.token})
	msg := errorOf(t, r)
	if r.code != http.StatusBadGateway || !strings.HasPrefix(msg, "suspend of Stack team-a/apps in prod: ") {
		t.Errorf("POST suspend to a cluster that does not answer: %d %q; want 502 naming the action, Stack and cluster", r.code, msg)
	}
	for _, secret := range []string{"hunter2", "bearer-token-123", s.token} {
		if strings.Contains(r.body, secret) {
			t.Errorf("the error carries %q: %s", secret, r.body)
		}
	}
}

func TestPlanNeedsARepositoryAndAHead(t *testing.T) {
	_, ts := newOfflineServer(t, Options{})
	r := do(t, ts, http.MethodGet, "/api/plan", nil)
	if want := "the plan needs the fleet repository: start the dashboard with --repo DIR (a clone, bare or not)"; r.code != http.StatusBadRequest || errorOf(t, r) != want {
		t.Errorf("GET /api/plan without --repo: %d %s; want 400 %q", r.code, r.body, want)
	}
	dir, _ := fleetRepo(t)
	_, ts = newOfflineServer(t, Options{Repo: dir})
	r = do(t, ts, http.MethodGet, "/api/plan?base=main", nil)
	if want := "name the branch to plan: /api/plan?head=BRANCH"; r.code != http.StatusBadRequest || errorOf(t, r) != want {
		t.Errorf("GET /api/plan without head: %d %s; want 400 %q", r.code, r.body, want)
	}
}

func TestDeliveryWithoutWatchedKindsIsEmptyLists(t *testing.T) {
	_, ts := newOfflineServer(t, Options{Clusters: []ClusterConfig{offlineCluster("prod")}})
	r := do(t, ts, http.MethodGet, "/api/delivery", nil)
	if want := `{"canaries":[],"imagePolicies":[],"imageUpdates":[]}` + "\n"; r.code != http.StatusOK || r.body != want {
		t.Errorf("GET /api/delivery before any informer: %d %q; want 200 %q", r.code, r.body, want)
	}
}

func TestListenOnANameKeepsTheName(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	url, _, err := Listen(ctx, s, "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://localhost:") {
		t.Errorf("Listen on localhost:0 = %q, want the page at http://localhost:PORT/", url)
	}
	port := strings.TrimSuffix(strings.TrimPrefix(url, "http://localhost:"), "/")
	for host, want := range map[string]bool{"localhost:" + port: true, "127.0.0.1:" + port: true, "[::1]:" + port: true, "localhost:1": false} {
		if got := s.allowedHost(host); got != want {
			t.Errorf("after Listen on localhost:0, allowedHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestListenOnABadAddressSaysWhich(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, done, err := Listen(t.Context(), s, "127.0.0.1:not-a-port")
	if err == nil || done != nil || !strings.HasPrefix(err.Error(), "dashboard: listening on 127.0.0.1:not-a-port: ") {
		t.Errorf("Listen on a bad address = %v (done %v); want an error naming the address", err, done)
	}
}
