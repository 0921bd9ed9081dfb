package forge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/image/forge"
	"github.com/flotilla-io/flotilla/test/forgeserver"
)

// No forge runs here: test/forgeserver stands in for each forge and
// checks every request against its documented REST API.

const token = "forge-token-secret-42"

func newDocumentedForge(t *testing.T, provider string) (*forgeserver.Server, forge.Client) {
	f := forgeserver.New(t, provider, token)
	c, err := forge.New(forge.Options{Provider: provider, Address: f.URL(), Repository: "org/fleet", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
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
			if p := f.Pulls(); len(p) != 1 || p[0].Title != "Update images again" || p[0].Body != "- a -> c" {
				t.Errorf("pulls = %+v", p)
			}
			closed, err := c.Close(ctx, "flotilla/images", "main")
			if err != nil || closed != url1 || f.Pulls()[0].Open {
				t.Errorf("close = %q, %v; open = %v", closed, err, f.Pulls()[0].Open)
			}
			if none, err := c.Close(ctx, "flotilla/images", "main"); none != "" || err != nil {
				t.Errorf("closing again = %q, %v; want nothing to close", none, err)
			}
			if calls := f.Calls(); len(calls) != 7 { // list+create, list+edit, list+close, list
				t.Errorf("calls = %v", calls)
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
