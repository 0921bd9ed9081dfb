package forge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/image/forge"
)

// No forge runs here: each server below checks every request against the
// forge's documented REST API (method, path, auth header, query and JSON
// body fields) and fails the test on anything else.
//
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

const token = "forge-token-secret-42"

type pull struct {
	Number      int
	Head, Base  string
	Title, Body string
	Open        bool
}

// documentedForge is a stand-in server for one provider.
type documentedForge struct {
	t        *testing.T
	provider string
	mu       sync.Mutex
	pulls    []*pull
	calls    []string
}

type route struct {
	method, path string
	query        []string // required query keys
	body         []string // allowed JSON body keys; the request must have only these
	required     []string // JSON body keys that must be present
}

func (f *documentedForge) routes() (prefix string, list, create route, edit func(n int) route, authHeader, authValue string) {
	switch f.provider {
	case forge.GitHub:
		p := "/repos/org/fleet/pulls"
		return p, route{method: "GET", path: p, query: []string{"state", "head", "base"}},
			route{method: "POST", path: p, body: []string{"title", "head", "base", "body"}, required: []string{"title", "head", "base"}},
			func(n int) route {
				return route{method: "PATCH", path: p + "/" + strconv.Itoa(n), body: []string{"title", "body", "state"}}
			},
			"Authorization", "Bearer " + token
	case forge.GitLab:
		p := "/projects/org%2Ffleet/merge_requests"
		return p, route{method: "GET", path: p, query: []string{"state", "source_branch", "target_branch"}},
			route{method: "POST", path: p, body: []string{"source_branch", "target_branch", "title", "description"}, required: []string{"source_branch", "target_branch", "title"}},
			func(n int) route {
				return route{method: "PUT", path: p + "/" + strconv.Itoa(n), body: []string{"title", "description", "state_event"}}
			},
			"PRIVATE-TOKEN", token
	default:
		p := "/repos/org/fleet/pulls"
		return p, route{method: "GET", path: p, query: []string{"state"}},
			route{method: "POST", path: p, body: []string{"head", "base", "title", "body"}, required: []string{"head", "base", "title"}},
			func(n int) route {
				return route{method: "PATCH", path: p + "/" + strconv.Itoa(n), body: []string{"title", "body", "state"}}
			},
			"Authorization", "token " + token
	}
}

func (f *documentedForge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

func (f *documentedForge) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("request not in the documented API: "+format, args...)
	http.Error(w, `{"message":"not documented"}`, http.StatusBadRequest)
}

func (f *documentedForge) checkBody(w http.ResponseWriter, body map[string]string, rt route) bool {
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

func (f *documentedForge) list(w http.ResponseWriter, q url.Values, rt route) {
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
		case forge.GitHub:
			match = q.Get("head") == "org:"+p.Head && q.Get("base") == p.Base
		case forge.GitLab:
			match = q.Get("source_branch") == p.Head && q.Get("target_branch") == p.Base
		}
		if match {
			out = append(out, f.render(p))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *documentedForge) create(w http.ResponseWriter, body map[string]string, rt route) {
	if !f.checkBody(w, body, rt) {
		return
	}
	p := &pull{Number: len(f.pulls) + 1, Title: body["title"], Open: true}
	switch f.provider {
	case forge.GitLab:
		p.Head, p.Base, p.Body = body["source_branch"], body["target_branch"], body["description"]
	default:
		p.Head, p.Base, p.Body = body["head"], body["base"], body["body"]
	}
	f.pulls = append(f.pulls, p)
	writeJSON(w, http.StatusCreated, f.render(p))
}

func (f *documentedForge) edit(w http.ResponseWriter, r *http.Request, body map[string]string, edit func(int) route) {
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

func (f *documentedForge) render(p *pull) map[string]any {
	web := fmt.Sprintf("https://forge.example/org/fleet/pulls/%d", p.Number)
	if f.provider == forge.GitLab {
		return map[string]any{"iid": p.Number, "web_url": web}
	}
	return map[string]any{"number": p.Number, "html_url": web, "head": map[string]string{"ref": p.Head}, "base": map[string]string{"ref": p.Base}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// NewDocumentedForge starts a stand-in for provider.
func newDocumentedForge(t *testing.T, provider string) (*documentedForge, forge.Client) {
	f := &documentedForge{t: t, provider: provider}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := forge.New(forge.Options{Provider: provider, Address: srv.URL, Repository: "org/fleet", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func TestPullRequestLifecycleOnEachForge(t *testing.T) {
	for _, provider := range []string{forge.GitHub, forge.GitLab, forge.Gitea} {
		t.Run(provider, func(t *testing.T) {
			f, c := newDocumentedForge(t, provider)
			ctx := context.Background()
			pr := forge.PullRequest{Head: "flotilla/images", Base: "main", Title: "Update images", Body: "- a -> b"}
			url1, err := c.Ensure(ctx, pr)
			if err != nil {
				t.Fatal(err)
			}
			pr.Title, pr.Body = "Update images again", "- a -> c"
			url2, err := c.Ensure(ctx, pr)
			if err != nil {
				t.Fatal(err)
			}
			if url1 != url2 || url1 != "https://forge.example/org/fleet/pulls/1" {
				t.Errorf("urls %q and %q: want the same pull request updated in place", url1, url2)
			}
			if len(f.pulls) != 1 || f.pulls[0].Title != "Update images again" || f.pulls[0].Body != "- a -> c" {
				t.Errorf("pulls = %+v", f.pulls[0])
			}
			closed, err := c.Close(ctx, "flotilla/images", "main")
			if err != nil || closed != url1 || f.pulls[0].Open {
				t.Errorf("close = %q, %v; open = %v", closed, err, f.pulls[0].Open)
			}
			if none, err := c.Close(ctx, "flotilla/images", "main"); none != "" || err != nil {
				t.Errorf("closing again = %q, %v; want nothing to close", none, err)
			}
			if len(f.calls) != 7 { // list+create, list+edit, list+close, list
				t.Errorf("calls = %v", f.calls)
			}
		})
	}
}

func TestForgeErrorsNeverShowTheToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
	}))
	t.Cleanup(srv.Close)
	c, err := forge.New(forge.Options{Provider: forge.GitHub, Address: srv.URL, Repository: "org/fleet", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main", Title: "t"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401: Bad credentials") || strings.Contains(err.Error(), token) {
		t.Fatalf("error = %v", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var leaked bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization") != ""
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	c, _ := forge.New(forge.Options{Provider: forge.Gitea, Address: srv.URL, Repository: "org/fleet", Token: token})
	if _, err := c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main", Title: "t"}); err == nil {
		t.Fatal("a redirect was taken as an answer")
	}
	if leaked {
		t.Fatal("the token was sent to the redirect's host")
	}
}

func TestNewAndRepositoryFromURL(t *testing.T) {
	if _, err := forge.New(forge.Options{Provider: forge.Gitea, Repository: "o/r", Token: "x"}); err == nil {
		t.Error("gitea without an address was accepted")
	}
	if _, err := forge.New(forge.Options{Provider: "bitbucket", Repository: "o/r", Token: "x"}); err == nil {
		t.Error("an unknown provider was accepted")
	}
	got := []string{
		forge.RepositoryFromURL("https://github.com/org/fleet.git"),
		forge.RepositoryFromURL("ssh://git@gitlab.example.com/group/sub/fleet.git"),
	}
	if diff := cmp.Diff([]string{"org/fleet", "group/sub/fleet"}, got); diff != "" {
		t.Error(diff)
	}
}
