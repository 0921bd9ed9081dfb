package forge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// github speaks https://docs.github.com/en/rest/pulls/pulls.
type github struct{ api }

type githubPull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
}

func (g *github) repoPath() string { return "/repos/" + g.opts.Repository + "/pulls" }

func (g *github) find(ctx context.Context, head, base string) (*githubPull, error) {
	owner, _, _ := strings.Cut(g.opts.Repository, "/")
	q := url.Values{"state": {"open"}, "head": {owner + ":" + head}, "base": {base}}
	var pulls []githubPull
	if err := g.do(ctx, http.MethodGet, g.repoPath()+"?"+q.Encode(), nil, &pulls); err != nil || len(pulls) == 0 {
		return nil, err
	}
	return &pulls[0], nil
}

// Ensure implements Client.
func (g *github) Ensure(ctx context.Context, pr PullRequest) (string, error) {
	open, err := g.find(ctx, pr.Head, pr.Base)
	if err != nil {
		return "", err
	}
	var out githubPull
	if open == nil {
		err = g.do(ctx, http.MethodPost, g.repoPath(), map[string]string{"title": pr.Title, "head": pr.Head, "base": pr.Base, "body": pr.Body}, &out)
	} else {
		err = g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", g.repoPath(), open.Number), map[string]string{"title": pr.Title, "body": pr.Body}, &out)
	}
	return out.HTMLURL, err
}

// Close implements Client.
func (g *github) Close(ctx context.Context, head, base string) (string, error) {
	open, err := g.find(ctx, head, base)
	if err != nil || open == nil {
		return "", err
	}
	return open.HTMLURL, g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", g.repoPath(), open.Number), map[string]string{"state": "closed"}, nil)
}

// gitlab speaks https://docs.gitlab.com/api/merge_requests/.
type gitlab struct{ api }

type gitlabMR struct {
	IID    int    `json:"iid"`
	WebURL string `json:"web_url"`
}

func (g *gitlab) mrPath() string {
	return "/projects/" + url.PathEscape(g.opts.Repository) + "/merge_requests"
}

func (g *gitlab) find(ctx context.Context, head, base string) (*gitlabMR, error) {
	q := url.Values{"state": {"opened"}, "source_branch": {head}, "target_branch": {base}}
	var mrs []gitlabMR
	if err := g.do(ctx, http.MethodGet, g.mrPath()+"?"+q.Encode(), nil, &mrs); err != nil || len(mrs) == 0 {
		return nil, err
	}
	return &mrs[0], nil
}

// Ensure implements Client.
func (g *gitlab) Ensure(ctx context.Context, pr PullRequest) (string, error) {
	open, err := g.find(ctx, pr.Head, pr.Base)
	if err != nil {
		return "", err
	}
	var out gitlabMR
	if open == nil {
		err = g.do(ctx, http.MethodPost, g.mrPath(), map[string]string{"source_branch": pr.Head, "target_branch": pr.Base, "title": pr.Title, "description": pr.Body}, &out)
	} else {
		err = g.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d", g.mrPath(), open.IID), map[string]string{"title": pr.Title, "description": pr.Body}, &out)
	}
	return out.WebURL, err
}

// Close implements Client.
func (g *gitlab) Close(ctx context.Context, head, base string) (string, error) {
	open, err := g.find(ctx, head, base)
	if err != nil || open == nil {
		return "", err
	}
	return open.WebURL, g.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d", g.mrPath(), open.IID), map[string]string{"state_event": "close"}, nil)
}

// gitea speaks https://gitea.com/api/swagger (repoListPullRequests,
// repoCreatePullRequest, repoEditPullRequest).
type gitea struct{ api }

type giteaPull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

func (g *gitea) repoPath() string { return "/repos/" + g.opts.Repository + "/pulls" }

func (g *gitea) find(ctx context.Context, head, base string) (*giteaPull, error) {
	var pulls []giteaPull
	if err := g.do(ctx, http.MethodGet, g.repoPath()+"?state=open&limit=50", nil, &pulls); err != nil {
		return nil, err
	}
	for i := range pulls {
		if pulls[i].Head.Ref == head && pulls[i].Base.Ref == base {
			return &pulls[i], nil
		}
	}
	return nil, nil
}

// Ensure implements Client.
func (g *gitea) Ensure(ctx context.Context, pr PullRequest) (string, error) {
	open, err := g.find(ctx, pr.Head, pr.Base)
	if err != nil {
		return "", err
	}
	var out giteaPull
	if open == nil {
		err = g.do(ctx, http.MethodPost, g.repoPath(), map[string]string{"head": pr.Head, "base": pr.Base, "title": pr.Title, "body": pr.Body}, &out)
	} else {
		err = g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", g.repoPath(), open.Number), map[string]string{"title": pr.Title, "body": pr.Body}, &out)
	}
	return out.HTMLURL, err
}

// Close implements Client.
func (g *gitea) Close(ctx context.Context, head, base string) (string, error) {
	open, err := g.find(ctx, head, base)
	if err != nil || open == nil {
		return "", err
	}
	return open.HTMLURL, g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", g.repoPath(), open.Number), map[string]string{"state": "closed"}, nil)
}
