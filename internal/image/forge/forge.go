package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Providers.
const (
	GitHub = "github"
	GitLab = "gitlab"
	Gitea  = "gitea"
)

// PullRequest is what to open.
type PullRequest struct {
	// Head is the branch with the change; Base the branch to merge into.
	Head, Base string
	// Title and Body (the description).
	Title, Body string
}

// Client opens and closes pull requests on one repository.
type Client interface {
	// Ensure opens the pull request from pr.Head into pr.Base, or updates
	// the open one's title and body; it returns its web URL.
	Ensure(ctx context.Context, pr PullRequest) (string, error)
	// Close closes the open pull request from head into base and returns
	// its web URL, or "" when there is none.
	Close(ctx context.Context, head, base string) (string, error)
}

// ErrAPI is a request the forge refused or answered unexpectedly.
var ErrAPI = errors.New("forge API request failed")

// Options say where the forge is.
type Options struct {
	// Provider is github, gitlab or gitea.
	Provider string
	// Address is the API root; github and gitlab default to the public ones.
	Address string
	// Repository is owner/name (the GitLab project path).
	Repository string
	// Token authenticates.
	Token string
	// HTTPClient sends the requests; nil uses a client that does not follow
	// redirects (so the token never goes to another host) and gives up
	// after 30 seconds.
	HTTPClient *http.Client
}

// New returns the Client for opts.Provider.
func New(opts Options) (Client, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opts.Repository == "" || opts.Token == "" {
		return nil, fmt.Errorf("%w: a repository and a token are needed", ErrAPI)
	}
	switch opts.Provider {
	case GitHub:
		opts.Address = orDefault(opts.Address, "https://api.github.com")
		return &client{api: newAPI(opts, "Authorization", "Bearer "+opts.Token), d: githubDialect(opts.Repository)}, nil
	case GitLab:
		opts.Address = orDefault(opts.Address, "https://gitlab.com/api/v4")
		return &client{api: newAPI(opts, "PRIVATE-TOKEN", opts.Token), d: gitlabDialect(opts.Repository)}, nil
	case Gitea:
		if opts.Address == "" {
			return nil, fmt.Errorf("%w: gitea needs an address", ErrAPI)
		}
		return &client{api: newAPI(opts, "Authorization", "token "+opts.Token), d: giteaDialect(opts.Repository)}, nil
	}
	return nil, fmt.Errorf("%w: unknown provider %q", ErrAPI, opts.Provider)
}

// RepositoryFromURL returns the path of a Git URL without ".git", the
// default repository of a pull request.
func RepositoryFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// api sends JSON requests with one auth header.
type api struct {
	opts       Options
	authHeader string
	authValue  string
}

func newAPI(opts Options, header, value string) api {
	opts.Address = strings.TrimSuffix(opts.Address, "/")
	return api{opts: opts, authHeader: header, authValue: value}
}

// do sends method path with body (JSON when not nil) and decodes the
// response into out.
func (a api) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.opts.Address+path, rd)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrAPI, method, path, err)
	}
	req.Header.Set(a.authHeader, a.authValue)
	req.Header.Set("Accept", "application/json")
	if a.opts.Provider == GitHub {
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrAPI, method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: %s %s: HTTP %d: %s", ErrAPI, method, path, resp.StatusCode, apiMessage(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %s %s: response does not decode: %v", ErrAPI, method, path, err)
	}
	return nil
}

// apiMessage extracts the "message" of an error response, bounded.
func apiMessage(data []byte) string {
	var m struct {
		Message any `json:"message"`
	}
	if json.Unmarshal(data, &m) == nil && m.Message != nil {
		s := fmt.Sprint(m.Message)
		if len(s) <= 200 {
			return s
		}
		// cut at a character boundary, never inside one
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s
	}
	return "(no message)"
}
