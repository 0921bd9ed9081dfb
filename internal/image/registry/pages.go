package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// maxPageBytes bounds one tag list answer (a page of 1000 long tags is
// well under it).
const maxPageBytes = 16 << 20

// tagPages walks /v2/<name>/tags/list. It follows the registry's Link
// header (the distribution spec's pagination); a registry that sends none
// but fills a whole page is asked again from the page's last tag, as the
// spec's n and last parameters allow.
type tagPages struct {
	client   *http.Client
	base     *url.URL
	nextURL  *url.URL
	pageSize int
	done     bool
}

// pager starts a walk through the tag pages, with an authenticated
// transport for the repository's pull scope.
func (c *Client) pager(ctx context.Context) (*tagPages, error) {
	reg := c.repo.Registry
	base := transport.NewRetry(c.baseTransport(), transport.WithRetryBackoff(c.backoff))
	tr, err := transport.NewWithContext(ctx, reg, c.auths.authenticator(reg), base, []string{c.repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: fmt.Sprintf("/v2/%s/tags/list", c.repo.RepositoryStr())}
	first := *u
	first.RawQuery = url.Values{"n": {strconv.Itoa(c.pageSize)}}.Encode()
	return &tagPages{client: &http.Client{Transport: tr}, base: u, nextURL: &first, pageSize: c.pageSize}, nil
}

func (p *tagPages) more() bool { return !p.done }

// next fetches one page.
func (p *tagPages) next(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.nextURL.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, err
	}
	var page struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPageBytes)).Decode(&page); err != nil {
		return nil, fmt.Errorf("the tag list does not parse: %w", err)
	}
	tags := p.afterLast(page.Tags)
	p.advance(resp.Header.Get("Link"), tags)
	return tags, nil
}

// afterLast drops the tags a page asked for with last= should not hold
// (those not after last in lexical order): some registries answer a last
// that is the final tag with the whole list again.
func (p *tagPages) afterLast(tags []string) []string {
	last := p.nextURL.Query().Get("last")
	if last == "" {
		return tags
	}
	return slices.DeleteFunc(tags, func(t string) bool { return t <= last })
}

// advance sets the next page's URL, or ends the walk.
func (p *tagPages) advance(link string, tags []string) {
	if next, ok := p.linked(link); ok || p.done {
		p.nextURL = next
		return
	}
	if len(tags) < p.pageSize {
		p.done = true
		return
	}
	u := *p.base
	u.RawQuery = url.Values{"n": {strconv.Itoa(p.pageSize)}, "last": {tags[len(tags)-1]}}.Encode()
	p.nextURL = &u
}

// linked parses a Link header's rel="next" link; the header may hold
// several links, comma-separated (RFC 8288), such as a prev and a next. A
// link to another host is ignored: credentials are never sent elsewhere.
func (p *tagPages) linked(link string) (*url.URL, bool) {
	target, ok := nextLink(link)
	if !ok {
		return nil, false
	}
	u, err := p.base.Parse(target)
	if err != nil || u.Host != p.base.Host || u.Scheme != p.base.Scheme {
		p.done = true
		return nil, false
	}
	return u, true
}

// nextLink returns the target of the rel="next" link of a Link header.
func nextLink(header string) (string, bool) {
	for header != "" {
		start := strings.Index(header, "<")
		n := strings.Index(header[max(start, 0):], ">")
		if start < 0 || n < 0 || strings.Contains(header[start+1:start+n], "<") {
			return "", false
		}
		end := start + n
		target, params := header[start+1:end], header[end+1:]
		if next := strings.Index(params, "<"); next >= 0 {
			params, header = params[:next], params[next:]
		} else {
			header = ""
		}
		if strings.Contains(params, `rel="next"`) {
			return target, true
		}
	}
	return "", false
}
