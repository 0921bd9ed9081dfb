package forge_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/image/forge"
)

// request is what the recording server saw of one call.
type request struct {
	Method, Path, Query string
	Header              map[string]string
	Body                map[string]string
}

// recorder answers each call with the next of its answers and records
// the request, for the details test/forgeserver does not show.
type recorder struct {
	mu       sync.Mutex
	requests []request
	answers  []func(w http.ResponseWriter)
}

func (rec *recorder) start(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]string
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				http.Error(w, "body is not a JSON object of strings", http.StatusBadRequest)
				return
			}
		}
		h := map[string]string{}
		for _, k := range []string{"Authorization", "Private-Token", "Accept", "Content-Type", "X-Github-Api-Version"} {
			if v := r.Header.Get(k); v != "" {
				h[k] = v
			}
		}
		rec.mu.Lock()
		rec.requests = append(rec.requests, request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: h, Body: body})
		n := len(rec.requests) - 1
		rec.mu.Unlock()
		if n >= len(rec.answers) {
			http.Error(w, "unexpected call", http.StatusTeapot)
			return
		}
		rec.answers[n](w)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recorded starts a recorder with answers and a client of provider on it;
// the address is given with suffix (such as a trailing slash).
func recorded(t *testing.T, provider, suffix string, answers ...func(http.ResponseWriter)) (*recorder, forge.Client) {
	t.Helper()
	rec := &recorder{answers: answers}
	srv := rec.start(t)
	c, err := forge.New(forge.Options{Provider: provider, Address: srv.URL + suffix, Repository: "org/fleet", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return rec, c
}

func (rec *recorder) seen() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.requests...)
}

func answer(code int, v any) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { writeJSON(w, code, v) }
}

func raw(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func TestEachForgeGetsItsAuthHeaderAndMediaType(t *testing.T) {
	tests := []struct {
		provider string
		want     map[string]string
	}{
		{forge.GitHub, map[string]string{"Authorization": "Bearer " + token, "Accept": "application/vnd.github+json", "X-Github-Api-Version": "2022-11-28"}},
		{forge.GitLab, map[string]string{"Private-Token": token, "Accept": "application/json"}},
		{forge.Gitea, map[string]string{"Authorization": "token " + token, "Accept": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			rec, c := recorded(t, tt.provider, "/", answer(200, []any{}))
			if got, err := c.Close(context.Background(), "h", "main"); got != "" || err != nil {
				t.Fatalf("Close with none open = %q, %v", got, err)
			}
			seen := rec.seen()
			if len(seen) != 1 {
				t.Fatalf("requests = %+v", seen)
			}
			if diff := cmp.Diff(tt.want, seen[0].Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if strings.HasPrefix(seen[0].Path, "//") {
				t.Errorf("the address's trailing slash doubled: %s", seen[0].Path)
			}
		})
	}
}

func TestEachForgeListsOpenPullRequestsItsOwnWay(t *testing.T) {
	tests := []struct {
		provider, path, query string
	}{
		{forge.GitHub, "/repos/org/fleet/pulls", "base=main&head=org%3Aflotilla%2Fimages&state=open"},
		{forge.GitLab, "/projects/org%2Ffleet/merge_requests", "source_branch=flotilla%2Fimages&state=opened&target_branch=main"},
		{forge.Gitea, "/repos/org/fleet/pulls", "limit=50&state=open"},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			rec, c := recorded(t, tt.provider, "", answer(200, []any{}))
			if _, err := c.Close(context.Background(), "flotilla/images", "main"); err != nil {
				t.Fatal(err)
			}
			got := rec.seen()[0]
			if got.Method != http.MethodGet || got.Path != tt.path || got.Query != tt.query {
				t.Errorf("list = %s %s?%s, want GET %s?%s", got.Method, got.Path, got.Query, tt.path, tt.query)
			}
		})
	}
}

func TestGiteaPicksTheOpenPullRequestOfTheBranches(t *testing.T) {
	open := []map[string]any{
		{"number": 3, "html_url": "https://gitea.example/org/fleet/pulls/3", "head": map[string]string{"ref": "other"}, "base": map[string]string{"ref": "main"}},
		{"number": 4, "html_url": "https://gitea.example/org/fleet/pulls/4", "head": map[string]string{"ref": "flotilla/images"}, "base": map[string]string{"ref": "release"}},
		{"number": 5, "html_url": "https://gitea.example/org/fleet/pulls/5", "head": map[string]string{"ref": "flotilla/images"}, "base": map[string]string{"ref": "main"}},
	}
	rec, c := recorded(t, forge.Gitea, "", answer(200, open), answer(200, map[string]any{"number": 5}))
	got, err := c.Close(context.Background(), "flotilla/images", "main")
	if err != nil {
		t.Fatal(err)
	}
	if got != "https://gitea.example/org/fleet/pulls/5" {
		t.Errorf("closed %q, want pull request 5", got)
	}
	closeReq := rec.seen()[1]
	want := request{Method: http.MethodPatch, Path: "/repos/org/fleet/pulls/5", Body: map[string]string{"state": "closed"}}
	if diff := cmp.Diff(want, closeReq, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Header" }, cmp.Ignore())); diff != "" {
		t.Errorf("close request (-want +got):\n%s", diff)
	}
}

func TestGitLabEditsWithPutAndItsOwnFieldNames(t *testing.T) {
	mr := map[string]any{"iid": 12, "web_url": "https://gitlab.example/org/fleet/-/merge_requests/12"}
	rec, c := recorded(t, forge.GitLab, "", answer(200, []map[string]any{mr}), answer(200, mr))
	got, err := c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main", Title: "T", Body: "B"})
	if err != nil {
		t.Fatal(err)
	}
	if got != "https://gitlab.example/org/fleet/-/merge_requests/12" {
		t.Errorf("url = %q", got)
	}
	edit := rec.seen()[1]
	if edit.Method != http.MethodPut || edit.Path != "/projects/org%2Ffleet/merge_requests/12" || edit.Header["Content-Type"] != "application/json" {
		t.Errorf("edit = %+v", edit)
	}
	if diff := cmp.Diff(map[string]string{"title": "T", "description": "B"}, edit.Body); diff != "" {
		t.Errorf("edit body (-want +got):\n%s", diff)
	}
}

func TestGitHubCreatesWithItsFieldNames(t *testing.T) {
	created := map[string]any{"number": 1, "html_url": "https://github.com/org/fleet/pull/1"}
	rec, c := recorded(t, forge.GitHub, "", answer(200, []any{}), answer(201, created))
	got, err := c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main", Title: "T", Body: "B"})
	if err != nil || got != "https://github.com/org/fleet/pull/1" {
		t.Fatalf("Ensure = %q, %v", got, err)
	}
	create := rec.seen()[1]
	if create.Method != http.MethodPost || create.Path != "/repos/org/fleet/pulls" {
		t.Errorf("create = %s %s", create.Method, create.Path)
	}
	if diff := cmp.Diff(map[string]string{"title": "T", "head": "h", "base": "main", "body": "B"}, create.Body); diff != "" {
		t.Errorf("create body (-want +got):\n%s", diff)
	}
}

func TestForgeErrorAnswers(t *testing.T) {
	long := strings.Repeat("x", 500)
	tests := []struct {
		name   string
		answer func(http.ResponseWriter)
		want   string
	}{
		{"message of an error", answer(422, map[string]string{"message": "Validation Failed"}), "GET /repos/org/fleet/pulls?base=main&head=org%3Ah&state=open: HTTP 422: Validation Failed"},
		{"GitLab's message as a list", answer(400, map[string]any{"message": []string{"branch missing"}}), "HTTP 400: [branch missing]"},
		{"no message", raw(502, "<html>bad gateway</html>"), "HTTP 502: (no message)"},
		{"a long message is cut at 200 characters", answer(500, map[string]string{"message": long}), "HTTP 500: " + long[:200]},
		{"an answer that does not decode", raw(200, "{not json"), "response does not decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := recorded(t, forge.GitHub, "", tt.answer)
			_, err := c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main", Title: "t"})
			if !errors.Is(err, forge.ErrAPI) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want ErrAPI containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), long[:201]) {
				t.Error("the message was not bounded")
			}
			if strings.Contains(err.Error(), token) {
				t.Error("the error holds the token")
			}
		})
	}
}

// The message was cut at byte 200, inside a character when one spans it,
// leaving invalid UTF-8 in a condition message.
func TestForgeMessageIsCutAtACharacterBoundary(t *testing.T) {
	msg := strings.Repeat("a", 199) + "é and more"
	_, c := recorded(t, forge.GitHub, "", answer(422, map[string]string{"message": msg}))
	_, err := c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main", Title: "t"})
	if err == nil || !utf8.ValidString(err.Error()) {
		t.Fatalf("error %q is not valid UTF-8", err)
	}
	if !strings.HasSuffix(err.Error(), "HTTP 422: "+strings.Repeat("a", 199)) {
		t.Errorf("error = %q, want the message cut before the é", err)
	}
}

func TestForgeUnreachableAndCancelled(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c, err := forge.New(forge.Options{Provider: forge.GitLab, Address: addr, Repository: "org/fleet", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Ensure(context.Background(), forge.PullRequest{Head: "h", Base: "main"})
	if !errors.Is(err, forge.ErrAPI) || !strings.Contains(err.Error(), "GET /projects/org%2Ffleet/merge_requests") || strings.Contains(err.Error(), token) {
		t.Errorf("unreachable: error = %v", err)
	}
	rec, c := recorded(t, forge.GitHub, "", answer(200, []any{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Close(ctx, "h", "main"); !errors.Is(err, forge.ErrAPI) || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled: error = %v", err)
	}
	if n := len(rec.seen()); n != 0 {
		t.Errorf("%d requests sent after cancellation", n)
	}
}

func TestNewNeedsARepositoryAndAToken(t *testing.T) {
	for name, opts := range map[string]forge.Options{
		"no token":      {Provider: forge.GitHub, Repository: "o/r"},
		"no repository": {Provider: forge.GitHub, Token: "x"},
	} {
		_, err := forge.New(opts)
		if !errors.Is(err, forge.ErrAPI) || !strings.Contains(err.Error(), "a repository and a token are needed") {
			t.Errorf("%s: error = %v", name, err)
		}
	}
	for _, p := range []string{forge.GitHub, forge.GitLab} {
		if _, err := forge.New(forge.Options{Provider: p, Repository: "o/r", Token: "x"}); err != nil {
			t.Errorf("%s without an address (the public API): %v", p, err)
		}
	}
	_, err := forge.New(forge.Options{Provider: "bitbucket", Repository: "o/r", Token: "x"})
	if err == nil || !strings.Contains(err.Error(), `unknown provider "bitbucket"`) {
		t.Errorf("unknown provider: %v", err)
	}
}

func TestRepositoryFromURLForms(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://github.com/org/fleet", "org/fleet"},
		{"https://github.com/org/fleet/", "org/fleet"},
		{"http://gitea.local:3000/org/fleet.git", "org/fleet"},
		{"ssh://git@github.com:22/org/fleet.git", "org/fleet"},
		{"https://user:pass@gitlab.com/g/s/p.git", "g/s/p"},
		{"://bad", ""},
	}
	for _, tt := range tests {
		if got := forge.RepositoryFromURL(tt.url); got != tt.want {
			t.Errorf("RepositoryFromURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
