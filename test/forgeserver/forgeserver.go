// Package forgeserver is test infrastructure: a stand-in for the pull
// request APIs of GitHub, GitLab and Gitea, which cannot run here.
//
// It checks every request against the forge's documented REST API (method,
// path, auth header, query and JSON body fields) and fails the test on
// anything else:
//   - GitHub: https://docs.github.com/en/rest/pulls/pulls
//     GET /repos/{owner}/{repo}/pulls?state=open&head=owner:branch&base=b,
//     POST /repos/{owner}/{repo}/pulls {title, head, base, body},
//     PATCH /repos/{owner}/{repo}/pulls/{number} {title, body} or {state: closed};
//     Authorization: Bearer TOKEN.
//   - GitLab: https://docs.gitlab.com/api/merge_requests/
//     GET /projects/:id/merge_requests?state=opened&source_branch&target_branch,
//     POST /projects/:id/merge_requests {source_branch, target_branch, title, description},
//     PUT /projects/:id/merge_requests/:iid {title, description} or {state_event: close};
//     PRIVATE-TOKEN: TOKEN; :id is the URL-encoded project path.
//   - Gitea: https://gitea.com/api/swagger
//     GET /repos/{owner}/{repo}/pulls?state=open, POST /repos/{owner}/{repo}/pulls
//     {head, base, title, body}, PATCH /repos/{owner}/{repo}/pulls/{index}
//     {title, body} or {state: closed}; Authorization: token TOKEN.
package forgeserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// Pull is a pull request the server holds.
type Pull struct {
	Number      int
	Head, Base  string
	Title, Body string
	Open        bool
}

// Server is a stand-in for one forge's pull request API.
type Server struct {
	t        testing.TB
	provider string
	token    string
	srv      *httptest.Server
	mu       sync.Mutex
	pulls    []*Pull
	calls    []string
}

type route struct {
	method, path string
	query        []string // required query keys
	body         []string // allowed JSON body keys; the request must have only these
	required     []string // JSON body keys that must be present
}

func (f *Server) routes() (prefix string, list, create route, edit func(n int) route, authHeader, authValue string) {
	switch f.provider {
	case "github":
		p := "/repos/org/fleet/pulls"
		return p, route{method: "GET", path: p, query: []string{"state", "head", "base"}},
			route{method: "POST", path: p, body: []string{"title", "head", "base", "body"}, required: []string{"title", "head", "base"}},
			func(n int) route {
				return route{method: "PATCH", path: p + "/" + strconv.Itoa(n), body: []string{"title", "body", "state"}}
			},
			"Authorization", "Bearer " + f.token
	case "gitlab":
		p := "/projects/org%2Ffleet/merge_requests"
		return p, route{method: "GET", path: p, query: []string{"state", "source_branch", "target_branch"}},
			route{method: "POST", path: p, body: []string{"source_branch", "target_branch", "title", "description"}, required: []string{"source_branch", "target_branch", "title"}},
			func(n int) route {
				return route{method: "PUT", path: p + "/" + strconv.Itoa(n), body: []string{"title", "description", "state_event"}}
			},
			"PRIVATE-TOKEN", f.token
	default:
		p := "/repos/org/fleet/pulls"
		return p, route{method: "GET", path: p, query: []string{"state"}},
			route{method: "POST", path: p, body: []string{"head", "base", "title", "body"}, required: []string{"head", "base", "title"}},
			func(n int) route {
				return route{method: "PATCH", path: p + "/" + strconv.Itoa(n), body: []string{"title", "body", "state"}}
			},
			"Authorization", "token " + f.token
	}
}

// ServeHTTP implements http.Handler.
func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, list, create, edit, authHeader, authValue := f.routes()
	f.calls = append(f.calls, r.Method+" "+r.URL.EscapedPath())
	if got := r.Header.Get(authHeader); got != authValue {
		f.fail(w, "auth header %s = %q", authHeader, got)
		return
	}
	var body map[string]string
	if r.Method != "GET" {
		if r.Header.Get("Content-Type") != "application/json" {
			f.fail(w, "content type %q", r.Header.Get("Content-Type"))
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.fail(w, "body: %v", err)
			return
		}
	}
	switch {
	case r.Method == list.method && r.URL.EscapedPath() == list.path:
		f.list(w, r.URL.Query(), list)
	case r.Method == create.method && r.URL.EscapedPath() == create.path:
		f.create(w, body, create)
	default:
		f.edit(w, r, body, edit)
	}
}

func (f *Server) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("request not in the documented API: "+format, args...)
	http.Error(w, `{"message":"not documented"}`, http.StatusBadRequest)
}

func (f *Server) checkBody(w http.ResponseWriter, body map[string]string, rt route) bool {
	for k := range body {
		if !slices.Contains(rt.body, k) {
			f.fail(w, "%s %s: body field %q", rt.method, rt.path, k)
			return false
		}
	}
	for _, k := range rt.required {
		if body[k] == "" {
			f.fail(w, "%s %s: body field %q missing", rt.method, rt.path, k)
			return false
		}
	}
	return true
}

func (f *Server) list(w http.ResponseWriter, q url.Values, rt route) {
	for _, k := range rt.query {
		if q.Get(k) == "" {
			f.fail(w, "list without query %q", k)
			return
		}
	}
	var out []map[string]any
	for _, p := range f.pulls {
		if !p.Open {
			continue
		}
		match := true
		switch f.provider {
		case "github":
			match = q.Get("head") == "org:"+p.Head && q.Get("base") == p.Base
		case "gitlab":
			match = q.Get("source_branch") == p.Head && q.Get("target_branch") == p.Base
		}
		if match {
			out = append(out, f.render(p))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Server) create(w http.ResponseWriter, body map[string]string, rt route) {
	if !f.checkBody(w, body, rt) {
		return
	}
	p := &Pull{Number: len(f.pulls) + 1, Title: body["title"], Open: true}
	switch f.provider {
	case "gitlab":
		p.Head, p.Base, p.Body = body["source_branch"], body["target_branch"], body["description"]
	default:
		p.Head, p.Base, p.Body = body["head"], body["base"], body["body"]
	}
	f.pulls = append(f.pulls, p)
	writeJSON(w, http.StatusCreated, f.render(p))
}

func (f *Server) edit(w http.ResponseWriter, r *http.Request, body map[string]string, edit func(int) route) {
	for _, p := range f.pulls {
		rt := edit(p.Number)
		if r.Method != rt.method || r.URL.EscapedPath() != rt.path {
			continue
		}
		if !f.checkBody(w, body, rt) {
			return
		}
		if body["state"] == "closed" || body["state_event"] == "close" {
			p.Open = false
		}
		p.Title, p.Body = cmpOr(body["title"], p.Title), cmpOr(cmpOr(body["body"], body["description"]), p.Body)
		writeJSON(w, http.StatusOK, f.render(p))
		return
	}
	f.fail(w, "%s %s", r.Method, r.URL.EscapedPath())
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (f *Server) render(p *Pull) map[string]any {
	web := fmt.Sprintf("https://forge.example/org/fleet/pulls/%d", p.Number)
	if f.provider == "gitlab" {
		return map[string]any{"iid": p.Number, "web_url": web}
	}
	return map[string]any{"number": p.Number, "html_url": web, "head": map[string]string{"ref": p.Head}, "base": map[string]string{"ref": p.Base}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// New starts a stand-in for provider (github, gitlab or gitea) serving
// repository org/fleet to clients that present token. It is closed by
// t.Cleanup; a request outside the documented API fails t.
func New(t testing.TB, provider, token string) *Server {
	f := &Server{t: t, provider: provider, token: token}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API root to give the client.
func (f *Server) URL() string { return f.srv.URL }

// Pulls returns copies of the pull requests opened so far.
func (f *Server) Pulls() []Pull {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Pull, 0, len(f.pulls))
	for _, p := range f.pulls {
		out = append(out, *p)
	}
	return out
}

// Calls returns "METHOD PATH" of every request so far.
func (f *Server) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}
