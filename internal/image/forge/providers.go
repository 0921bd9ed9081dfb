package forge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// pull is a pull (merge) request as any of the three forges returns it.
type pull struct {
	Number  int    `json:"number"`   // GitHub, Gitea
	IID     int    `json:"iid"`      // GitLab
	HTMLURL string `json:"html_url"` // GitHub, Gitea
	WebURL  string `json:"web_url"`  // GitLab
	Head    struct {
		Ref string `json:"ref"`
	} `json:"head"` // Gitea
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"` // Gitea
}

func (p pull) id() int     { return max(p.Number, p.IID) }
func (p pull) url() string { return p.HTMLURL + p.WebURL }

// dialect is what differs between the forges' pull request APIs.
type dialect struct {
	// path of the pull requests collection.
	path string
	// listQuery selects the open pull requests from head into base; filter
	// picks the one among the answers (some forges cannot filter).
	listQuery func(head, base string) url.Values
	filter    func(p pull, head, base string) bool
	// createBody, editBody and closeBody are the JSON bodies.
	createBody func(pr PullRequest) map[string]string
	editBody   func(pr PullRequest) map[string]string
	closeBody  map[string]string
	// editMethod is PATCH or PUT.
	editMethod string
}

// client implements Client for one dialect.
type client struct {
	api
	d dialect
}

var _ Client = (*client)(nil)

func githubDialect(repo string) dialect {
	owner, _, _ := strings.Cut(repo, "/")
	return dialect{ // https://docs.github.com/en/rest/pulls/pulls
		path: "/repos/" + repo + "/pulls",
		listQuery: func(head, base string) url.Values {
			return url.Values{"state": {"open"}, "head": {owner + ":" + head}, "base": {base}}
		},
		createBody: func(pr PullRequest) map[string]string {
			return map[string]string{"title": pr.Title, "head": pr.Head, "base": pr.Base, "body": pr.Body}
		},
		editBody:   func(pr PullRequest) map[string]string { return map[string]string{"title": pr.Title, "body": pr.Body} },
		closeBody:  map[string]string{"state": "closed"},
		editMethod: http.MethodPatch,
	}
}

func gitlabDialect(repo string) dialect {
	return dialect{ // https://docs.gitlab.com/api/merge_requests/
		path: "/projects/" + url.PathEscape(repo) + "/merge_requests",
		listQuery: func(head, base string) url.Values {
			return url.Values{"state": {"opened"}, "source_branch": {head}, "target_branch": {base}}
		},
		createBody: func(pr PullRequest) map[string]string {
			return map[string]string{"source_branch": pr.Head, "target_branch": pr.Base, "title": pr.Title, "description": pr.Body}
		},
		editBody: func(pr PullRequest) map[string]string {
			return map[string]string{"title": pr.Title, "description": pr.Body}
		},
		closeBody:  map[string]string{"state_event": "close"},
		editMethod: http.MethodPut,
	}
}

func giteaDialect(repo string) dialect {
	d := githubDialect(repo) // https://gitea.com/api/swagger: the same bodies as GitHub's
	d.listQuery = func(string, string) url.Values { return url.Values{"state": {"open"}, "limit": {"50"}} }
	d.filter = func(p pull, head, base string) bool { return p.Head.Ref == head && p.Base.Ref == base }
	d.createBody = func(pr PullRequest) map[string]string {
		return map[string]string{"head": pr.Head, "base": pr.Base, "title": pr.Title, "body": pr.Body}
	}
	return d
}

// find returns the open pull request from head into base, or nil.
func (c *client) find(ctx context.Context, head, base string) (*pull, error) {
	var pulls []pull
	if err := c.do(ctx, http.MethodGet, c.d.path+"?"+c.d.listQuery(head, base).Encode(), nil, &pulls); err != nil {
		return nil, err
	}
	for i := range pulls {
		if c.d.filter == nil || c.d.filter(pulls[i], head, base) {
			return &pulls[i], nil
		}
	}
	return nil, nil
}

// Ensure implements Client.
func (c *client) Ensure(ctx context.Context, pr PullRequest) (string, error) {
	open, err := c.find(ctx, pr.Head, pr.Base)
	if err != nil {
		return "", err
	}
	var out pull
	if open == nil {
		err = c.do(ctx, http.MethodPost, c.d.path, c.d.createBody(pr), &out)
	} else {
		err = c.do(ctx, c.d.editMethod, fmt.Sprintf("%s/%d", c.d.path, open.id()), c.d.editBody(pr), &out)
	}
	return out.url(), err
}

// Close implements Client.
func (c *client) Close(ctx context.Context, head, base string) (string, error) {
	open, err := c.find(ctx, head, base)
	if err != nil || open == nil {
		return "", err
	}
	return open.url(), c.do(ctx, c.d.editMethod, fmt.Sprintf("%s/%d", c.d.path, open.id()), c.d.closeBody, nil)
}
